package io.tidemark.snapshotter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The snapshotter's meters, tagged by job. Base units are set so that Prometheus names carry
 * them: {@code tidemark_snapshot_duration_seconds}, {@code tidemark_snapshot_logical_bytes_total},
 * {@code tidemark_snapshot_stored_bytes_total}, {@code tidemark_snapshot_dedup_ratio},
 * {@code tidemark_snapshot_failures_total}.
 */
final class SnapshotMetrics {

    private final MeterRegistry registry;
    /** Gauges read these; Micrometer holds gauge targets weakly, so they are kept here. */
    private final ConcurrentHashMap<String, AtomicReference<Double>> dedupRatios = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicReference<Double>> chainDepths = new ConcurrentHashMap<>();

    SnapshotMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void completed(String job, SnapshotSummary s) {
        Timer.builder("tidemark.snapshot.duration").description("Time to take a snapshot")
                .tag("job", job).register(registry).record(s.duration());
        Counter.builder("tidemark.snapshot.logical").baseUnit("bytes")
                .description("Uncompressed bytes read from heads into snapshots")
                .tag("job", job).register(registry).increment(s.logicalBytes());
        Counter.builder("tidemark.snapshot.stored").baseUnit("bytes")
                .description("Compressed bytes of new blocks snapshots added to the block store")
                .tag("job", job).register(registry).increment(s.storedBytes());
        dedupRatios.computeIfAbsent(job, j -> {
            AtomicReference<Double> ratio = new AtomicReference<>(Double.NaN);
            Gauge.builder("tidemark.snapshot.dedup.ratio", ratio, AtomicReference::get)
                    .description("Share of the last snapshot's logical bytes that were already stored")
                    .tag("job", j).register(registry);
            return ratio;
        }).set(s.dedupRatio());
        Counter.builder("tidemark.snapshot.kind").baseUnit("snapshots")
                .description("Snapshots completed, full or delta on their parent")
                .tag("job", job).tag("kind", s.manifest().chain().kind()).register(registry).increment();
        chainDepths.computeIfAbsent(job, j -> {
            AtomicReference<Double> depth = new AtomicReference<>(0.0);
            Gauge.builder("tidemark.snapshot.chain.depth", depth, AtomicReference::get).baseUnit("snapshots")
                    .description("Deltas between the job's last snapshot and its chain's full snapshot")
                    .tag("job", j).register(registry);
            return depth;
        }).set((double) s.manifest().chain().depth());
    }

    void failed(String job) {
        Counter.builder("tidemark.snapshot.failures").description("Snapshot attempts that failed")
                .tag("job", job).register(registry).increment();
    }
}
