package io.tidemark.shared.util;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Lets one log line per key through each interval and counts the rest, so that a failure that
 * repeats many times a second (a full disk under a retry loop) is said once per interval with the
 * number of repeats, instead of thousands of lines that bury everything else.
 */
public final class LogLimiter {

    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    public LogLimiter(Duration interval) {
        this(interval, System::nanoTime);
    }

    public LogLimiter(Duration interval, LongSupplier nanoClock) {
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * Whether to log for {@code key} now: -1 to stay quiet (counted), otherwise how many were kept
     * quiet since the last line for this key.
     */
    public long admit(String key) {
        long now = nanoClock.getAsLong();
        long[] out = {-1};
        windows.compute(key, (k, w) -> {
            if (w == null) {
                out[0] = 0;
                return new Window(now, 0);
            }
            if (now - w.loggedAt >= intervalNanos) {
                out[0] = w.suppressed;
                return new Window(now, 0);
            }
            return new Window(w.loggedAt, w.suppressed + 1);
        });
        return out[0];
    }

    /** Forgets {@code key}, so the next failure after a recovery is said at once. */
    public void reset(String key) {
        windows.remove(key);
    }

    /** A suffix for a log line: empty, or how many like it were not logged. */
    public static String suppressedNote(long suppressed) {
        return suppressed <= 0 ? "" : " (" + suppressed + " more like it not logged)";
    }

    private record Window(long loggedAt, long suppressed) {
    }
}
