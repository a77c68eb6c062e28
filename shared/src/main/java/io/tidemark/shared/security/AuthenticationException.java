package io.tidemark.shared.security;

/** The caller could not be authenticated; never says which part of a key was wrong. */
public class AuthenticationException extends RuntimeException {
    public AuthenticationException(String message) {
        super(message);
    }
}
