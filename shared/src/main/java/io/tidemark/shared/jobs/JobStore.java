package io.tidemark.shared.jobs;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;

import java.util.List;

/** Jobs in the metadata DB: one per backed-up deployment, with its state and positions. */
public final class JobStore {

    private static final String COLLECTION = "jobs";

    private final MongoClient db;

    public JobStore(MongoClient db) {
        this.db = db;
    }

    /** Finds the deployment's job or creates it in {@code INITIAL_SYNC}. */
    public Future<JsonObject> register(String deploymentName) {
        String id = JobIds.forDeployment(deploymentName);
        long now = System.currentTimeMillis();
        JsonObject job = new JsonObject()
                .put("_id", id)
                .put("name", deploymentName)
                .put("state", JobState.INITIAL_SYNC.name())
                .put("createdAt", now)
                .put("updatedAt", now)
                .put("sync", new JsonObject().put("generation", 0L).put("complete", false));
        return db.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", id),
                        new JsonObject().put("$setOnInsert", job), new UpdateOptions().setUpsert(true))
                .compose(r -> find(id))
                .map(found -> {
                    if (!deploymentName.equals(found.getString("name"))) {
                        throw new IllegalStateException("job id " + id + " already belongs to deployment '"
                                + found.getString("name") + "'");
                    }
                    return found;
                });
    }

    /** The job, or a failed future with {@link UnknownJobException}. */
    public Future<JsonObject> find(String id) {
        return db.findOne(COLLECTION, new JsonObject().put("_id", id), null)
                .compose(job -> job == null ? Future.failedFuture(new UnknownJobException(id)) : Future.succeededFuture(job));
    }

    /** Accepts a job id or its deployment name, as operators type either. */
    public Future<JsonObject> resolve(String idOrName) {
        return db.findOne(COLLECTION, new JsonObject().put("_id", idOrName), null)
                .compose(byId -> byId != null ? Future.succeededFuture(byId)
                        : db.findOne(COLLECTION, new JsonObject().put("name", idOrName), null))
                .compose(job -> job == null ? Future.failedFuture(new UnknownJobException(idOrName)) : Future.succeededFuture(job));
    }

    public Future<List<JsonObject>> list() {
        return db.findWithOptions(COLLECTION, new JsonObject(), new FindOptions().setSort(new JsonObject().put("name", 1)));
    }

    /** Sets fields on a job (dotted paths allowed) and stamps {@code updatedAt}. */
    public Future<Void> set(String id, JsonObject fields) {
        JsonObject set = fields.copy().put("updatedAt", System.currentTimeMillis());
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", id), new JsonObject().put("$set", set))
                .mapEmpty();
    }

    /**
     * Sets fields only while the job is in {@code expected}; returns whether it was. Guards state
     * changes that race with an operator's action.
     */
    public Future<Boolean> setIfState(String id, JobState expected, JsonObject fields) {
        JsonObject set = fields.copy().put("updatedAt", System.currentTimeMillis());
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", id).put("state", expected.name()),
                        new JsonObject().put("$set", set))
                .map(r -> r != null && r.getDocMatched() > 0);
    }

    public Future<Void> recordStored(String id, OpTime storedTs) {
        return set(id, new JsonObject().put("storedTs", storedTs.toJson()));
    }

    public static JobState state(JsonObject job) {
        return JobState.valueOf(job.getString("state"));
    }

    public static OpTime position(JsonObject job, String field) {
        return OpTime.fromJson(job.getJsonObject(field));
    }
}
