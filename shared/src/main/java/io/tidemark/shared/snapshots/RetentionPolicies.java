package io.tidemark.shared.snapshots;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;

/**
 * Retention policies in the metadata DB ({@code retentionPolicies}, one document per job keyed
 * by the job id). A job without a document has {@link RetentionPolicy#DEFAULT}: the snapshotter
 * then keeps its configured interval and the groomer the default retention.
 */
public final class RetentionPolicies {

    public static final String COLLECTION = "retentionPolicies";

    private final MongoClient db;

    public RetentionPolicies(MongoClient metadataDb) {
        this.db = metadataDb;
    }

    /** The job's stored policy, or null when it has none. */
    public Future<RetentionPolicy> stored(String job) {
        return db.findOne(COLLECTION, new JsonObject().put("_id", job), null).map(doc -> {
            if (doc == null) {
                return null;
            }
            JsonObject fields = doc.copy();
            fields.remove("_id");
            fields.remove("updatedAt");
            return RetentionPolicy.fromJson(fields, RetentionPolicy.DEFAULT);
        });
    }

    /** The policy in effect: the stored one, else the default. */
    public Future<RetentionPolicy> effective(String job) {
        return stored(job).map(p -> p == null ? RetentionPolicy.DEFAULT : p);
    }

    /** Stores (replaces) the job's policy. The policy validated itself on construction. */
    public Future<Void> put(String job, RetentionPolicy policy) {
        JsonObject set = policy.toJson().put("updatedAt", System.currentTimeMillis());
        return db.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", job),
                new JsonObject().put("$set", set), new UpdateOptions().setUpsert(true)).mapEmpty();
    }

    /** Removes the job's policy, so the defaults apply again. */
    public Future<Void> remove(String job) {
        return db.removeDocument(COLLECTION, new JsonObject().put("_id", job)).mapEmpty();
    }
}
