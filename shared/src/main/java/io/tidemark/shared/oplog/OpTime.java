package io.tidemark.shared.oplog;

import io.vertx.core.json.JsonObject;
import org.bson.BsonTimestamp;

/**
 * An oplog position: the entry's timestamp (seconds + increment). Ordered exactly as MongoDB orders
 * oplog timestamps (unsigned seconds, then unsigned increment).
 */
public record OpTime(long seconds, long increment) implements Comparable<OpTime> {

    public static final OpTime ZERO = new OpTime(0, 0);

    public OpTime {
        if (seconds < 0 || seconds > 0xFFFF_FFFFL || increment < 0 || increment > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("oplog timestamp out of range: " + seconds + ":" + increment);
        }
    }

    public static OpTime of(BsonTimestamp ts) {
        return new OpTime(Integer.toUnsignedLong(ts.getTime()), Integer.toUnsignedLong(ts.getInc()));
    }

    public static OpTime ofPacked(long packed) {
        return new OpTime(packed >>> 32, packed & 0xFFFF_FFFFL);
    }

    /** Parses {@code T:I}, the form operators type on the command line. */
    public static OpTime parse(String text) {
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("expected an oplog timestamp as T:I, got '" + text + "'");
        }
        try {
            return new OpTime(Long.parseLong(text.substring(0, colon)), Long.parseLong(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected an oplog timestamp as T:I, got '" + text + "'");
        }
    }

    /** Reads {@code {"t": seconds, "i": increment}}; null when the field is absent. */
    public static OpTime fromJson(JsonObject json) {
        if (json == null) {
            return null;
        }
        Object t = json.getValue("t");
        Object i = json.getValue("i");
        if (!(t instanceof Number) || !(i instanceof Number)) {
            throw new IllegalArgumentException("an oplog position must be {\"t\": seconds, \"i\": increment}, got " + json.encode());
        }
        return new OpTime(((Number) t).longValue(), ((Number) i).longValue());
    }

    public JsonObject toJson() {
        return new JsonObject().put("t", seconds).put("i", increment);
    }

    public BsonTimestamp toBson() {
        return new BsonTimestamp((int) seconds, (int) increment);
    }

    public long packed() {
        return (seconds << 32) | increment;
    }

    public boolean isAfter(OpTime other) {
        return compareTo(other) > 0;
    }

    @Override
    public int compareTo(OpTime o) {
        return Long.compareUnsigned(packed(), o.packed());
    }

    @Override
    public String toString() {
        return seconds + ":" + increment;
    }
}
