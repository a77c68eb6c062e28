package io.tidemark.applier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** The applier's meters, per job. Gauges' values live as long as the process-wide registry. */
final class ApplierMetrics {

    private static final Map<String, AtomicLong> LAG_SECONDS = new ConcurrentHashMap<>();
    private static final Map<String, AtomicLong> HEAD_BYTES = new ConcurrentHashMap<>();
    private static final Map<String, AtomicLong> DIRTY_KEYS = new ConcurrentHashMap<>();
    /** The heads' memory of the running applier: meters outlive a redeployed verticle. */
    private static final AtomicReference<HeadMemory> MEMORY = new AtomicReference<>();

    private final MeterRegistry registry;

    ApplierMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void batchApplied(String job, int entries, long nanos) {
        Counter.builder("tidemark.applier.entries").description("Oplog entries applied to heads")
                .tag("job", job).register(registry).increment(entries);
        Timer.builder("tidemark.applier.batch").description("Time to apply one stored oplog batch to a head")
                .tag("job", job).publishPercentiles(0.5, 0.99).register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Counts the document cache's lookups of {@code memory}, the budget every head now shares. */
    void documentCache(HeadMemory memory) {
        if (MEMORY.getAndSet(memory) != null) {
            return;
        }
        FunctionCounter.builder("tidemark.head.document.cache.lookups", MEMORY, m -> m.get() == null ? 0 : m.get().documentCacheHits())
                .description("Document lookups of oplog application answered by the document cache")
                .tag("result", "hit").register(registry);
        FunctionCounter.builder("tidemark.head.document.cache.lookups", MEMORY, m -> m.get() == null ? 0 : m.get().documentCacheMisses())
                .description("Document lookups of oplog application answered by the document cache")
                .tag("result", "miss").register(registry);
    }

    void diverged(String job) {
        Counter.builder("tidemark.applier.divergence").description("Heads failed on an entry that did not match them")
                .tag("job", job).register(registry).increment();
    }

    void lag(String job, long seconds) {
        LAG_SECONDS.computeIfAbsent(job, j -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("tidemark.applier.lag", v, AtomicLong::get).baseUnit("seconds")
                    .description("How far a head's applied position trails the stored oplog").tag("job", j).register(registry);
            return v;
        }).set(seconds);
    }

    void headSize(String job, long bytes) {
        HEAD_BYTES.computeIfAbsent(job, j -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("tidemark.head.size", v, AtomicLong::get).baseUnit("bytes")
                    .description("A head's approximate size on disk").tag("job", j).register(registry);
            return v;
        }).set(bytes);
    }

    /** Changed keys the head tracks for the next delta snapshot (RocksDB's estimate). */
    void dirtyKeys(String job, long keys) {
        DIRTY_KEYS.computeIfAbsent(job, j -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("tidemark.head.dirty.keys", v, AtomicLong::get).baseUnit("keys")
                    .description("Documents and namespaces changed since the last complete snapshot (estimate)")
                    .tag("job", j).register(registry);
            return v;
        }).set(keys);
    }
}
