package io.tidemark.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.DistributionSummary;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/** The Backup HTTP service's meters, per job. */
final class IngestMetrics {

    private final MeterRegistry registry;
    /** Gauges live as long as the process-wide registry, so their values do too (a restarted service reuses them). */
    private static final Map<String, AtomicReference<Double>> LAG = new ConcurrentHashMap<>();

    IngestMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void batchStored(String job, int entries, int bytes, long ackNanos) {
        Counter.builder("tidemark.ingest.oplog.entries").description("Oplog entries stored durably")
                .tag("job", job).register(registry).increment(entries);
        Counter.builder("tidemark.ingest.oplog.received").baseUnit("bytes").description("Oplog bytes stored durably")
                .tag("job", job).register(registry).increment(bytes);
        Counter.builder("tidemark.ingest.oplog.batches").description("Oplog batches by outcome")
                .tag("job", job).tag("result", "stored").register(registry).increment();
        Timer.builder("tidemark.ingest.ack.latency").description("From a batch's arrival to its acknowledgement")
                .tag("job", job).publishPercentiles(0.5, 0.99).register(registry)
                .record(ackNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void batchOutcome(String job, String result) {
        Counter.builder("tidemark.ingest.oplog.batches").description("Oplog batches by outcome")
                .tag("job", job).tag("result", result).register(registry).increment();
    }

    void sliceStored(String job, int documents, int bytes) {
        Counter.builder("tidemark.ingest.sync.documents").description("Initial-sync documents stored durably")
                .tag("job", job).register(registry).increment(documents);
        DistributionSummary.builder("tidemark.ingest.sync.slice").baseUnit("bytes").description("Initial-sync slice sizes")
                .tag("job", job).register(registry).record(bytes);
    }

    void rejected(String reason) {
        Counter.builder("tidemark.ingest.rejected").description("Requests refused, by reason")
                .tag("reason", reason).register(registry).increment();
    }

    void lag(String job, double seconds) {
        LAG.computeIfAbsent(job, j -> {
            AtomicReference<Double> ref = new AtomicReference<>(0.0);
            Gauge.builder("tidemark.ingest.lag", ref, AtomicReference::get).baseUnit("seconds")
                    .description("How far the stored oplog trails the source, as the agent last reported")
                    .tag("job", j).register(registry);
            return ref;
        }).set(seconds);
    }
}
