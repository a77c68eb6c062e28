package io.tidemark.groomer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The groomer's meters, tagged by job: {@code tidemark_groom_expired_total} (snapshots expired),
 * {@code tidemark_groom_reclaimed_bytes_total} (block bytes deleted by sweeps),
 * {@code tidemark_groom_oplog_trimmed_batches_total}, and {@code tidemark_groom_duration_seconds}.
 * Dry runs count only in the duration.
 */
final class GroomMetrics {

    private final MeterRegistry registry;

    GroomMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void groomed(GroomReport r) {
        Timer.builder("tidemark.groom.duration").description("Time a groom of a job took (retention, oplog trim, sweep)")
                .tag("job", r.job()).register(registry).record(r.duration());
        if (r.dryRun()) {
            return;
        }
        Counter.builder("tidemark.groom.expired").description("Snapshots expired by retention")
                .tag("job", r.job()).register(registry).increment(r.expired().size());
        Counter.builder("tidemark.groom.reclaimed").baseUnit("bytes")
                .description("Stored block bytes deleted by block sweeps")
                .tag("job", r.job()).register(registry).increment(r.reclaimedBytes());
        Counter.builder("tidemark.groom.oplog.trimmed").baseUnit("batches")
                .description("Oplog-store batches trimmed past the point-in-time window")
                .tag("job", r.job()).register(registry).increment(r.oplogBatchesTrimmed());
    }
}
