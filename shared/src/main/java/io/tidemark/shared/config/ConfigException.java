package io.tidemark.shared.config;

/** A configuration that cannot be used; its message says which key and why. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
