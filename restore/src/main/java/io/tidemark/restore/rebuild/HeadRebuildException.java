package io.tidemark.restore.rebuild;

/**
 * A head cannot be rebuilt from the stored data: the job has no complete snapshot, or the oplog
 * store does not continue from the snapshot's position. The message says which and what to do.
 */
public final class HeadRebuildException extends RuntimeException {

    public HeadRebuildException(String message) {
        super(message);
    }
}
