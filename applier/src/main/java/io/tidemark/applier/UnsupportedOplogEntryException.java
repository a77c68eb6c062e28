package io.tidemark.applier;

/**
 * An oplog entry the applier does not understand (unknown op, command, update version, or a
 * malformed diff). The applier never guesses at semantics: the job fails with the entry.
 */
public class UnsupportedOplogEntryException extends OplogEntryException {
    private static final long serialVersionUID = 1L;

    public UnsupportedOplogEntryException(String reason, String entryJson, String opJson) {
        super(reason, entryJson, opJson);
    }
}
