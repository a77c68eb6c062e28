package io.tidemark.restore;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.util.List;

/**
 * Restore jobs in the metadata DB ({@code restores}): {@code _id}, {@code job}, {@code kind}
 * ({@code snapshot} | {@code pit}), {@code snapshotId} (snapshot) or {@code at} (a point in time
 * asked for by wall clock), {@code ts} (the position the data reflects), {@code gzip},
 * {@code delivery} ({@code download} | {@code push}; a push has its {@code target} URI without
 * credentials, {@code drop} and at the end its {@code summary}), {@code state}, {@code createdAt},
 * {@code expiresAt}, {@code startedAt}, {@code finishedAt} (epoch millis), {@code bytes},
 * {@code logicalBytes}, {@code error}, and for downloads {@code tokenHash}.
 *
 * <p>Every state change is a conditional update on the state it leaves, so two front ends racing
 * for one link (or a late expiry racing a download) cannot both win.
 */
final class RestoreRecords {

    static final String COLLECTION = "restores";

    private final MongoClient db;

    RestoreRecords(MongoClient metadataDb) {
        this.db = metadataDb;
    }

    Future<Void> createIndexes() {
        return db.createIndexWithOptions(COLLECTION, new JsonObject().put("tokenHash", 1), new IndexOptions())
                .compose(v -> db.createIndexWithOptions(COLLECTION, new JsonObject().put("job", 1).put("createdAt", -1),
                        new IndexOptions()));
    }

    Future<Void> insert(JsonObject record) {
        return db.insert(COLLECTION, record).mapEmpty();
    }

    /** The record, or null. */
    Future<JsonObject> find(String id) {
        return db.findOne(COLLECTION, new JsonObject().put("_id", id), null);
    }

    Future<JsonObject> findByTokenHash(String tokenHash) {
        return db.findOne(COLLECTION, new JsonObject().put("tokenHash", tokenHash), null);
    }

    /** A job's restores, newest first. */
    Future<List<JsonObject>> list(String job, int limit) {
        return db.findWithOptions(COLLECTION, new JsonObject().put("job", job),
                new FindOptions().setSort(new JsonObject().put("createdAt", -1).put("_id", -1)).setLimit(limit));
    }

    /**
     * Uses a link: READY and unexpired → STREAMING in one atomic find-and-modify. Returns the
     * updated record, or null when the link is unknown, used or expired (the caller finds out
     * which, to say so).
     */
    Future<JsonObject> claim(String tokenHash, long nowMillis) {
        JsonObject query = new JsonObject()
                .put("tokenHash", tokenHash)
                .put("state", RestoreState.READY.name())
                .put("expiresAt", new JsonObject().put("$gt", nowMillis));
        JsonObject update = new JsonObject().put("$set", new JsonObject()
                .put("state", RestoreState.STREAMING.name())
                .put("startedAt", nowMillis));
        return db.findOneAndUpdateWithOptions(COLLECTION, query, update, new FindOptions(),
                new UpdateOptions().setReturningNewDocument(true));
    }

    /** Moves a record from {@code from} to {@code to}, setting {@code fields}; false if it was not in {@code from}. */
    Future<Boolean> transition(String id, RestoreState from, RestoreState to, JsonObject fields) {
        JsonObject set = fields.copy().put("state", to.name());
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", id).put("state", from.name()),
                        new JsonObject().put("$set", set))
                .map(r -> r != null && r.getDocModified() == 1);
    }
}
