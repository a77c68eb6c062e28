package io.tidemark.restore.rebuild;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A destination's moves in progress: {@code tidemark_job_move_loaded_bytes{job}} (snapshot bytes
 * loaded into the arriving head so far), {@code tidemark_job_move_caught_up_entries{job}} (oplog
 * entries applied to it so far), both 0 once the arrival ended, and
 * {@code tidemark_job_moves_arriving_jobs} (arrivals under way). Outcomes are counted where the
 * move ends ({@code tidemark_job_moves_total{outcome}}).
 */
final class MoveMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicLong[]> running = new ConcurrentHashMap<>();
    private final Map<String, Boolean> registered = new ConcurrentHashMap<>();

    MoveMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("tidemark.job.moves.arriving", running, Map::size).baseUnit("jobs")
                .description("moves to this daemon under way").register(registry);
    }

    void started(String job, AtomicLong loaded, AtomicLong replayed) {
        running.put(job, new AtomicLong[] {loaded, replayed});
        registered.computeIfAbsent(job, j -> {
            Gauge.builder("tidemark.job.move.loaded", running, r -> value(r, j, 0)).baseUnit("bytes").tag("job", j)
                    .description("snapshot bytes loaded into the head arriving by a move").register(registry);
            Gauge.builder("tidemark.job.move.caught.up", running, r -> value(r, j, 1)).baseUnit("entries").tag("job", j)
                    .description("oplog entries applied to the head arriving by a move").register(registry);
            return true;
        });
    }

    void ended(String job) {
        running.remove(job);
    }

    private static double value(Map<String, AtomicLong[]> running, String job, int which) {
        AtomicLong[] v = running.get(job);
        return v == null ? 0 : v[which].get();
    }
}
