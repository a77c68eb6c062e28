package io.tidemark.restore;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * The range of oplog positions a point-in-time restore of a job can reach, both ends inclusive:
 * from the oldest complete snapshot whose following oplog is still stored without a gap (and not
 * older than the configured window), to the newest stored oplog position.
 */
public record PitWindow(OpTime from, OpTime to) {

    public boolean contains(OpTime target) {
        return target.compareTo(from) >= 0 && target.compareTo(to) <= 0;
    }

    /** {@code T:I (ISO) to T:I (ISO)}: both forms an operator may type as a target. */
    public String describe() {
        return from + " (" + iso(from) + ") to " + to + " (" + iso(to) + ")";
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("from", from.toJson()).put("fromTime", iso(from))
                .put("to", to.toJson()).put("toTime", iso(to));
    }

    /** The wall-clock second an oplog timestamp names. */
    public static String iso(OpTime ts) {
        return Instant.ofEpochSecond(ts.seconds()).toString();
    }
}
