package io.tidemark.shared.jobs;

import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Jobs in the metadata DB: one per backed-up deployment, with its state and positions. */
public final class JobStore {

    private static final String COLLECTION = "jobs";

    private final MongoClient db;

    public JobStore(MongoClient db) {
        this.db = db;
    }

    /** Finds the deployment's job or creates it in {@code INITIAL_SYNC}. */
    public Future<JsonObject> register(String deploymentName) {
        return findByName(deploymentName).compose(job -> job != null ? Future.succeededFuture(job) : create(deploymentName, null));
    }

    /** The job of the deployment with this exact name, or null; jobs from before today's ids are found too. */
    public Future<JsonObject> findByName(String deploymentName) {
        return db.findOne(COLLECTION, new JsonObject().put("name", deploymentName), null);
    }

    /**
     * Creates the deployment's job in {@code INITIAL_SYNC} unless it exists, recording which agent
     * key registered it ({@code registeredBy}, when given; the first registration wins). Its id is
     * taken by no other name unless SHA-256 collides or a record was planted; either way that is a
     * 409 and the job holding the id is left as it was.
     */
    public Future<JsonObject> create(String deploymentName, String registeredBy) {
        String id = JobIds.forDeployment(deploymentName);
        long now = System.currentTimeMillis();
        JsonObject job = new JsonObject()
                .put("_id", id)
                .put("name", deploymentName)
                .put("state", JobState.INITIAL_SYNC.name())
                .put("createdAt", now)
                .put("updatedAt", now)
                .put("sync", new JsonObject().put("generation", 0L).put("complete", false));
        if (registeredBy != null) {
            job.put("registeredBy", registeredBy);
        }
        // Keyed on the id, not the name: two agents registering a new name at once converge on one
        // document, and a record already holding the id is not touched ($setOnInsert only).
        return db.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", id),
                        new JsonObject().put("$setOnInsert", job), new UpdateOptions().setUpsert(true))
                .compose(r -> find(id))
                .map(found -> {
                    if (!deploymentName.equals(found.getString("name"))) {
                        throw ApiException.conflict("the job id " + id + " for deployment '" + deploymentName
                                + "' is already taken by another deployment; register under another name", null);
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
        return compareAndSet(id, EnumSet.of(expected), new JsonObject(), fields);
    }

    /**
     * Sets fields only while the job matches {@code also} (equality or operator conditions on its
     * fields, e.g. {@code sync.generation} and its binding), in whatever state; returns whether it did.
     */
    public Future<Boolean> setIf(String id, JsonObject also, JsonObject fields) {
        return compareAndSet(id, EnumSet.allOf(JobState.class), also, fields);
    }

    /**
     * Moves the job to {@code to} (setting {@code fields} with it) only if it is in one of
     * {@code from} and matches {@code also} (more equality or operator conditions on its fields,
     * e.g. {@code sync.generation}); returns whether it did. One conditional update, so a report
     * computed from an older read of the job cannot undo a change made since, such as an
     * operator's resync, whichever process made it.
     */
    public Future<Boolean> transition(String id, Set<JobState> from, JsonObject also, JobState to, JsonObject fields) {
        return compareAndSet(id, from, also, fields.copy().put("state", to.name()));
    }

    private Future<Boolean> compareAndSet(String id, Set<JobState> from, JsonObject also, JsonObject fields) {
        JsonArray states = new JsonArray();
        from.forEach(s -> states.add(s.name()));
        JsonObject filter = also.copy().put("_id", id).put("state", new JsonObject().put("$in", states));
        JsonObject set = fields.copy().put("updatedAt", System.currentTimeMillis());
        return db.updateCollection(COLLECTION, filter, new JsonObject().put("$set", set))
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
