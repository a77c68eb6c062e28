package io.tidemark.shared.util;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One line per key per interval, with the count of those kept quiet. */
class LogLimiterTest {

    @Test
    void oneLinePerKeyPerIntervalWithTheCountOfTheRest() {
        AtomicLong now = new AtomicLong();
        LogLimiter limiter = new LogLimiter(Duration.ofSeconds(30), now::get);
        assertEquals(0, limiter.admit("disk"), "the first is logged");
        for (int i = 0; i < 500; i++) {
            now.addAndGet(Duration.ofMillis(50).toNanos());
            assertEquals(-1, limiter.admit("disk"), "within the interval: quiet");
        }
        assertEquals(0, limiter.admit("store"), "another key has its own interval");
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertEquals(500, limiter.admit("disk"), "after the interval: logged, with how many were not");
        assertEquals(-1, limiter.admit("disk"));
        limiter.reset("disk");
        assertEquals(0, limiter.admit("disk"), "after a recovery the next failure is said at once");
        assertEquals("", LogLimiter.suppressedNote(0));
        assertEquals(" (500 more like it not logged)", LogLimiter.suppressedNote(500));
    }
}
