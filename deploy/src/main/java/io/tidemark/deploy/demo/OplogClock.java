package io.tidemark.deploy.demo;

import org.bson.BsonTimestamp;

/**
 * Oplog timestamps as a primary hands them out: seconds from the wall clock and an increment that
 * counts the entries within a second, strictly increasing even if the wall clock steps back.
 * Not thread-safe: the source serialises its writes.
 */
final class OplogClock {

    private int seconds;
    private int increment;

    BsonTimestamp next(long wallMillis) {
        int now = (int) (wallMillis / 1000);
        if (now > seconds) {
            seconds = now;
            increment = 1;
        } else {
            increment++;
        }
        return new BsonTimestamp(seconds, increment);
    }

    /** The last timestamp handed out, or Timestamp(0, 0) before the first. */
    BsonTimestamp last() {
        return new BsonTimestamp(seconds, increment);
    }
}
