package io.tidemark.applier;

/**
 * The head no longer matches the source: an entry found a document missing, an _id taken by
 * different content, a namespace that does not exist, or a transaction whose earlier part never
 * arrived. Applying further would build on wrong data, so the job must stop (and resync).
 */
public class HeadDivergenceException extends OplogEntryException {
    private static final long serialVersionUID = 1L;

    public HeadDivergenceException(String reason, String entryJson, String opJson) {
        super(reason, entryJson, opJson);
    }
}
