package io.tidemark.restore;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tidemark.shared.metrics.Metrics;
import java.time.Duration;

/**
 * Restore meters, per job: {@code tidemark_restore_bytes_total} (artifact bytes sent, compressed
 * when gzipped), {@code tidemark_restore_duration_seconds} (link used to last byte, successful
 * restores) and {@code tidemark_restore_failures_total}.
 */
final class RestoreMetrics {

    private final MeterRegistry registry;

    RestoreMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    static RestoreMetrics global() {
        return new RestoreMetrics(Metrics.registry());
    }

    Counter bytes(String job) {
        return Counter.builder("tidemark.restore.bytes").baseUnit("bytes").tag("job", job)
                .description("restore artifact bytes sent").register(registry);
    }

    void delivered(String job, Duration took) {
        Timer.builder("tidemark.restore.duration").tag("job", job).description("time to deliver a restore")
                .publishPercentiles(0.5, 0.99).register(registry).record(took);
    }

    void failed(String job) {
        Counter.builder("tidemark.restore.failures").tag("job", job).description("restores that failed")
                .register(registry).increment();
    }
}
