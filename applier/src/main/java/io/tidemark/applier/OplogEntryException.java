package io.tidemark.applier;

/** Base of failures tied to one oplog entry: carries that entry, as extended JSON, for the job's error. */
public abstract class OplogEntryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String entryJson;
    private final String opJson;

    protected OplogEntryException(String reason, String entryJson, String opJson) {
        super(reason + ": " + (opJson != null && !opJson.equals(entryJson) ? opJson + " in entry " : "") + entryJson);
        this.entryJson = entryJson;
        this.opJson = opJson;
    }

    /** The whole oplog entry (canonical extended JSON). */
    public String entryJson() {
        return entryJson;
    }

    /**
     * The operation that failed: the entry itself, or the inner operation of an applyOps or
     * transaction that the entry carries.
     */
    public String opJson() {
        return opJson;
    }
}
