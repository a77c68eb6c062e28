package io.tidemark.restore.push;

/**
 * How a push writes into its target.
 *
 * @param drop            drop the target's existing namespaces of the same names first; without it a
 *                        non-empty one makes the push refuse before it changes anything
 * @param batchDocuments  documents per insertMany at most
 * @param batchBytes      BSON bytes per insertMany at most (one document may overshoot it), far below
 *                        the 48 MB a MongoDB message may carry
 * @param batchesInFlight insertMany commands outstanding at once; the source is read no faster
 */
public record PushOptions(boolean drop, int batchDocuments, long batchBytes, int batchesInFlight) {

    public PushOptions {
        if (batchDocuments < 1 || batchBytes < 1 || batchesInFlight < 1) {
            throw new IllegalArgumentException("push batches must be positive: " + batchDocuments + " documents, "
                    + batchBytes + " bytes, " + batchesInFlight + " in flight");
        }
    }

    public static PushOptions defaults() {
        return new PushOptions(false, 1_000, 8L << 20, 2);
    }

    public PushOptions withDrop(boolean newDrop) {
        return new PushOptions(newDrop, batchDocuments, batchBytes, batchesInFlight);
    }
}
