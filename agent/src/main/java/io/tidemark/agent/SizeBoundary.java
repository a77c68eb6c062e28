package io.tidemark.agent;

/**
 * Decides where a run of documents is cut into request bodies: when the bytes gathered reach the
 * limit, or (for oplog batches) when an age tick passes a non-empty run.
 */
final class SizeBoundary {

    private final int maxBytes;
    private long bytes;

    SizeBoundary(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Adds a document; true when the run must end after it. */
    boolean add(int size) {
        bytes += size;
        if (bytes >= maxBytes) {
            bytes = 0;
            return true;
        }
        return false;
    }

    /** The run's age limit passed; true when there is anything to cut. */
    boolean tick() {
        boolean any = bytes > 0;
        bytes = 0;
        return any;
    }
}
