package io.tidemark.agent;

import io.tidemark.shared.oplog.OpTime;

/** The position to resume from is no longer in the source's oplog: continuing would leave a gap. */
public class OplogPositionLostException extends RuntimeException {
    OplogPositionLostException(OpTime wanted, OpTime found) {
        super("oplog position " + wanted + " is no longer in the source's oplog (the oldest entry at or after it is "
                + found + "); entries may have been lost, so a resync is required");
    }
}
