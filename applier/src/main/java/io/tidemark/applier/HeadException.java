package io.tidemark.applier;

/** A head's storage failed (RocksDB error, corrupt record); the head cannot be trusted until fixed. */
public class HeadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HeadException(String message, Throwable cause) {
        super(message, cause);
    }

    public HeadException(String message) {
        super(message);
    }
}
