package io.tidemark.agent;

import io.tidemark.shared.oplog.OpTime;

/** The position to resume from is no longer in the source's oplog: continuing would leave a gap. */
public class OplogPositionLostException extends RuntimeException {

    private OplogPositionLostException(OpTime wanted, String seen) {
        super("oplog position " + wanted + " is no longer in the source's oplog (" + seen
                + "); entries may have been lost, so a resync is required");
    }

    /** The oplog continues, but not from the position: what lay between is gone. */
    static OplogPositionLostException rolledOver(OpTime wanted, OpTime firstAfter) {
        return new OplogPositionLostException(wanted, "its first entry at or after it is " + firstAfter);
    }

    /** The source has an entry at the position, but not the one stored there: its history changed. */
    static OplogPositionLostException rewritten(OpTime wanted) {
        return new OplogPositionLostException(wanted, "the source's entry at that position is not the one the service "
                + "stored: the source rolled back or is not the deployment this job backs up");
    }

    /** The oplog ends before the position: the source is not the one the position came from, or it rolled back. */
    static OplogPositionLostException behind(OpTime wanted, OpTime newest) {
        return new OplogPositionLostException(wanted, "its newest entry is " + newest);
    }
}
