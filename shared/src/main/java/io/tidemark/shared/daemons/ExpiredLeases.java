package io.tidemark.shared.daemons;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which jobs bound to other daemons have run out of lease: the candidates of automatic failover.
 * A binding's lease is its document in {@code bindings} when that names the same daemon and
 * epoch; without one (a crash between the two writes of a change of owner, which the owner's next
 * renewal repairs) the lease counts from when the binding was made.
 */
final class ExpiredLeases {

    private ExpiredLeases() {
    }

    /** A binding whose lease ended at {@code leaseUntil} (epoch millis). */
    record Expired(JobBindings.Binding binding, long leaseUntil) {
    }

    /**
     * @param jobs job documents
     * @param leases the binding documents of collection {@code bindings}
     * @param me this daemon, whose own bindings are never candidates
     */
    static List<Expired> among(List<JsonObject> jobs, List<JsonObject> leases, String me, long now, long leaseMillis) {
        Map<String, JsonObject> byJob = new HashMap<>();
        leases.forEach(l -> byJob.put(l.getString("_id"), l));
        List<Expired> out = new ArrayList<>();
        for (JsonObject doc : jobs) {
            JobBindings.Binding b = JobBindings.Binding.of(doc);
            if (b == null || me.equals(b.daemon())) {
                continue;
            }
            JsonObject lease = byJob.get(b.job());
            long until = lease != null && b.daemon().equals(lease.getString("daemon")) && lease.getLong("epoch", -1L) == b.epoch()
                    ? lease.getLong("leaseUntil", 0L)
                    : doc.getJsonObject("binding").getLong("boundAt", 0L) + leaseMillis;
            if (until < now) {
                out.add(new Expired(b, until));
            }
        }
        return out;
    }
}
