package io.tidemark.restore.rebuild;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;

/**
 * Head rebuild meters, per job: {@code tidemark_head_rebuild_loaded_bytes_total} (snapshot
 * document bytes written into new heads), {@code tidemark_head_rebuild_replayed_entries_total}
 * (oplog entries applied on top), {@code tidemark_head_rebuild_duration_seconds} (successful
 * rebuilds, start to head in place) and {@code tidemark_head_rebuild_failures_total}.
 */
final class RebuildMetrics {

    private final MeterRegistry registry;

    RebuildMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    Counter loaded(String job) {
        return Counter.builder("tidemark.head.rebuild.loaded").baseUnit("bytes").tag("job", job)
                .description("snapshot document bytes loaded into rebuilt heads").register(registry);
    }

    Counter replayed(String job) {
        return Counter.builder("tidemark.head.rebuild.replayed").baseUnit("entries").tag("job", job)
                .description("stored oplog entries applied to rebuilt heads").register(registry);
    }

    void completed(String job, Duration took) {
        Timer.builder("tidemark.head.rebuild.duration").tag("job", job).description("time to rebuild a head")
                .register(registry).record(took);
    }

    void failed(String job) {
        Counter.builder("tidemark.head.rebuild.failures").tag("job", job).description("head rebuilds that failed")
                .register(registry).increment();
    }
}
