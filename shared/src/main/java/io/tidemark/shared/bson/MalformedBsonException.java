package io.tidemark.shared.bson;

/** Input that is not valid BSON. Always a client error. */
public class MalformedBsonException extends RuntimeException {
    public MalformedBsonException(String message) {
        super(message);
    }
}
