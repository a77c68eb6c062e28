package io.tidemark.shared.daemons;

import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which daemon a new job goes to: among the daemons that may receive jobs ({@code assignment} and
 * {@code backupJobs} on) and are alive (a heartbeat within the lease), the one with the most free
 * head space. Free space is compared in whole GiB, because two daemons on one file system measure
 * it a few seconds apart and would otherwise be ordered by noise; on a tie, the one with fewer
 * jobs, then the smaller id, so that every daemon computes the same answer. One small class, so
 * that another rule replaces it in one place.
 */
public final class BindingRule {

    private static final long GIB = 1L << 30;

    private BindingRule() {
    }

    /**
     * @param daemons registry documents
     * @param jobsBound jobs bound per daemon id
     */
    public static Optional<String> choose(List<JsonObject> daemons, Map<String, Integer> jobsBound, long now, long aliveMillis) {
        return daemons.stream()
                .filter(d -> d.getBoolean("assignment", true) && d.getBoolean("backupJobs", true))
                .filter(d -> now - d.getLong("heartbeatAt", 0L) <= aliveMillis)
                .min(Comparator.<JsonObject>comparingLong(d -> -(d.getLong("headFreeBytes", 0L) / GIB))
                        .thenComparingInt(d -> jobsBound.getOrDefault(d.getString("_id"), 0))
                        .thenComparing(d -> d.getString("_id")))
                .map(d -> d.getString("_id"));
    }
}
