package io.tidemark.applier;

/**
 * A head, a view of it or a cursor was used after it was closed (or while it was closing): a
 * resync, a failed job or shutdown closed the head under a reader. The reader's work is lost, never
 * the process: nothing native was touched.
 */
public final class HeadClosedException extends HeadException {
    private static final long serialVersionUID = 1L;

    public HeadClosedException(String message) {
        super(message);
    }
}
