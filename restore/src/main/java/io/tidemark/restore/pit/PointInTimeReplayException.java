package io.tidemark.restore.pit;

/**
 * The stored oplog did not apply to the snapshot it was replayed onto: an entry found the data
 * other than it expected, or was not understood. The message names the entry. Nothing is
 * delivered from such a restore.
 */
public final class PointInTimeReplayException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PointInTimeReplayException(String message, Throwable cause) {
        super(message, cause);
    }
}
