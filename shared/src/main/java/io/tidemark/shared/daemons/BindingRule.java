package io.tidemark.shared.daemons;

import io.vertx.core.json.JsonObject;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which daemon a new job goes to: among the daemons that may receive jobs ({@code assignment} and
 * {@code backupJobs} on) and are alive (a heartbeat within the lease), the one with the most free
 * head space. Free space within 1 GiB or 5% of the most counts as the most: two daemons on one
 * file system measure it seconds apart, and what is written in between must not decide (whole-GiB
 * buckets did, whenever the free space crossed a GiB between the two measurements). Among those,
 * the one with fewer jobs, then the smaller id, so that every daemon computes the same answer. One
 * small class, so that another rule replaces it in one place.
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
        List<JsonObject> eligible = daemons.stream()
                .filter(d -> d.getBoolean("assignment", true) && d.getBoolean("backupJobs", true))
                .filter(d -> now - d.getLong("heartbeatAt", 0L) <= aliveMillis)
                .toList();
        long most = eligible.stream().mapToLong(BindingRule::free).max().orElse(0);
        long margin = Math.max(GIB, most / 20);
        return eligible.stream()
                .filter(d -> free(d) >= most - margin)
                .min(Comparator.<JsonObject>comparingInt(d -> jobsBound.getOrDefault(d.getString("_id"), 0))
                        .thenComparing(d -> d.getString("_id")))
                .map(d -> d.getString("_id"));
    }

    private static long free(JsonObject daemon) {
        return daemon.getLong("headFreeBytes", 0L);
    }
}
