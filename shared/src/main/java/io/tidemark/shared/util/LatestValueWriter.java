package io.tidemark.shared.util;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Keeps a slow copy of a fast-moving value (a job's stored or applied position) up to date without
 * making the fast path wait: at most one write per key is in flight, and the next one carries the
 * newest value submitted meanwhile. Confined to one event loop.
 */
public final class LatestValueWriter<V> {

    private static final Logger LOG = LoggerFactory.getLogger(LatestValueWriter.class);
    private static final LogLimiter LOGS = new LogLimiter(java.time.Duration.ofSeconds(30));

    private final String what;
    private final BiFunction<String, V, Future<Void>> write;
    private final Map<String, V> pending = new HashMap<>();
    private final Set<String> writing = new HashSet<>();

    public LatestValueWriter(String what, BiFunction<String, V, Future<Void>> write) {
        this.what = what;
        this.write = write;
    }

    public void submit(String key, V value) {
        pending.put(key, value);
        if (writing.add(key)) {
            flush(key);
        }
    }

    private void flush(String key) {
        V next = pending.remove(key);
        if (next == null) {
            writing.remove(key);
            return;
        }
        write.apply(key, next)
                .onFailure(e -> {
                    // A store that cannot write fails every record: said once per interval, not per value.
                    long suppressed = LOGS.admit(what + ":" + key);
                    if (suppressed >= 0) {
                        LOG.warn("{}: could not record {} {}: {}{}", key, what, next, e.getMessage(), LogLimiter.suppressedNote(suppressed));
                    }
                })
                .onComplete(ar -> flush(key));
    }
}
