package io.tidemark.shared.daemons;

import io.tidemark.shared.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The daemon registry (metadata DB collection {@code daemons}), like Ops Manager's Daemons page:
 * one document per daemon id with its host, head root, head disk used and free, version and last
 * heartbeat, which the daemon rewrites every few seconds, and two switches an operator sets:
 * {@code assignment} (may receive new jobs) and {@code backupJobs} (runs its jobs; off for
 * maintenance: its heads stop, its jobs stay bound to it).
 */
public final class DaemonRegistry {

    static final String COLLECTION = "daemons";

    private final MongoClient db;

    public DaemonRegistry(MongoClient db) {
        this.db = db;
    }

    /** Records a heartbeat: {@code fields} and the time; a new daemon starts with both switches on. */
    public Future<Void> heartbeat(String id, JsonObject fields) {
        long now = System.currentTimeMillis();
        JsonObject update = new JsonObject()
                .put("$set", fields.copy().put("heartbeatAt", now))
                .put("$setOnInsert", new JsonObject().put("assignment", true).put("backupJobs", true).put("registeredAt", now));
        return db.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", id), update, new UpdateOptions().setUpsert(true))
                .mapEmpty();
    }

    public Future<JsonObject> find(String id) {
        return db.findOne(COLLECTION, new JsonObject().put("_id", id), null);
    }

    public Future<List<JsonObject>> list() {
        return db.findWithOptions(COLLECTION, new JsonObject(), new FindOptions().setSort(new JsonObject().put("_id", 1)));
    }

    /**
     * Every daemon with the jobs bound to it ({@code jobs}, {@code jobsBound}), from the jobs'
     * bindings, and whether its heartbeat is recent ({@code alive}).
     */
    public Future<List<JsonObject>> listWithJobs(List<JsonObject> jobs, long aliveMillis) {
        Map<String, JsonArray> bound = new HashMap<>();
        for (JsonObject job : jobs) {
            JobBindings.Binding b = JobBindings.Binding.of(job);
            if (b != null) {
                bound.computeIfAbsent(b.daemon(), d -> new JsonArray()).add(new JsonObject()
                        .put("job", b.job()).put("name", job.getString("name")).put("epoch", b.epoch()));
            }
        }
        long now = System.currentTimeMillis();
        return list().map(daemons -> daemons.stream().map(d -> {
            JsonArray mine = bound.getOrDefault(d.getString("_id"), new JsonArray());
            return d.copy().put("jobs", mine).put("jobsBound", mine.size())
                    .put("alive", now - d.getLong("heartbeatAt", 0L) <= aliveMillis);
        }).toList());
    }

    /**
     * Sets either switch (null: unchanged) and returns the daemon's document; 404 for an unknown
     * daemon, so that a typo does not register one.
     */
    public Future<JsonObject> setSwitches(String id, Boolean assignment, Boolean backupJobs) {
        JsonObject set = new JsonObject();
        if (assignment != null) {
            set.put("assignment", assignment);
        }
        if (backupJobs != null) {
            set.put("backupJobs", backupJobs);
        }
        if (set.isEmpty()) {
            return Future.failedFuture(ApiException.badRequest("nothing to set: give 'assignment' or 'backupJobs'"));
        }
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", id), new JsonObject().put("$set", set))
                .compose(r -> r == null || r.getDocMatched() == 0
                        ? Future.failedFuture(new ApiException(404, "no daemon '" + id + "' (see 'tidemark daemons list')"))
                        : find(id));
    }

    /** Jobs bound per daemon id, for the binding rule. */
    public static Map<String, Integer> boundCounts(List<JsonObject> jobs) {
        Map<String, Integer> counts = new HashMap<>();
        for (JsonObject job : jobs) {
            JobBindings.Binding b = JobBindings.Binding.of(job);
            if (b != null) {
                counts.merge(b.daemon(), 1, Integer::sum);
            }
        }
        return counts;
    }
}
