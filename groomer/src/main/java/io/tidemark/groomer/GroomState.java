package io.tidemark.groomer;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;

/**
 * What the groomer remembers between grooms, in the metadata DB ({@code groomState}): the stored
 * bytes added by snapshots expired since the last completed sweep. Those bytes are the upper
 * bound of what a sweep could reclaim (a block an expired snapshot added may still be referenced
 * by a later one), which is what the threshold trigger compares against the total.
 */
final class GroomState {

    static final String COLLECTION = "groomState";
    private static final String BLOCKS = "blocks";

    private final MongoClient metadata;

    GroomState(MongoClient metadata) {
        this.metadata = metadata;
    }

    void addUnswept(long bytes) {
        Blocking.await(metadata.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", BLOCKS),
                new JsonObject().put("$inc", new JsonObject().put("unsweptBytes", bytes)),
                new UpdateOptions().setUpsert(true)));
    }

    long unsweptBytes() {
        JsonObject doc = Blocking.await(metadata.findOne(COLLECTION, new JsonObject().put("_id", BLOCKS), null));
        return doc == null ? 0 : doc.getLong("unsweptBytes", 0L);
    }

    /** After a sweep: what was expired before its mark is now reclaimed (or still referenced). */
    void sweptThrough(long unsweptAtMark) {
        Blocking.await(metadata.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", BLOCKS),
                new JsonObject().put("$inc", new JsonObject().put("unsweptBytes", -unsweptAtMark))
                        .put("$set", new JsonObject().put("lastSweepAt", System.currentTimeMillis())),
                new UpdateOptions().setUpsert(true)));
    }
}
