package io.tidemark.applier;

import org.bson.BsonTimestamp;

/**
 * A position in a replica set's oplog: the entry's timestamp and, when the entry carried one, the
 * election term ({@link #UNKNOWN_TERM} otherwise).
 */
public record OplogPosition(BsonTimestamp ts, long term) implements Comparable<OplogPosition> {
    public static final long UNKNOWN_TERM = -1;

    /** The position before any entry: every real oplog entry is after it. */
    public static final OplogPosition ORIGIN = new OplogPosition(new BsonTimestamp(0, 0), UNKNOWN_TERM);

    public OplogPosition {
        if (ts == null) {
            throw new IllegalArgumentException("ts is required");
        }
    }

    public static OplogPosition of(BsonTimestamp ts) {
        return new OplogPosition(ts, UNKNOWN_TERM);
    }

    @Override
    public int compareTo(OplogPosition o) {
        return ts.compareTo(o.ts);
    }

    @Override
    public String toString() {
        return "Timestamp(" + ts.getTime() + ", " + ts.getInc() + ")" + (term == UNKNOWN_TERM ? "" : " t=" + term);
    }
}
