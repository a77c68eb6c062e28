package io.tidemark.groomer;

import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import java.util.List;

/**
 * Reads the whole snapshot catalog, every job's entries, without their per-namespace summaries.
 * The block store is shared by all jobs (a block is named by its content, so two jobs holding
 * the same data share it), so a sweep must know every job's snapshots, not only the groomed one's.
 */
final class CatalogEntries {

    private static final JsonObject FIELDS = new JsonObject().put("_id", 1).put("job", 1).put("ts", 1)
            .put("createdAt", 1).put("complete", 1).put("failed", 1).put("expired", 1).put("base", 1)
            .put("storedBytes", 1).put("parent", 1).put("chainBase", 1);

    private final MongoClient metadata;

    CatalogEntries(MongoClient metadata) {
        this.metadata = metadata;
    }

    /** Every entry of every job. Blocks the calling thread: call from the groomer's worker only. */
    List<CatalogEntry> all() {
        return Blocking.await(metadata.findWithOptions(SnapshotCatalog.COLLECTION, new JsonObject(),
                new FindOptions().setFields(FIELDS))).stream().map(CatalogEntry::of).toList();
    }

    /** One job's entries. */
    List<CatalogEntry> ofJob(String job) {
        return Blocking.await(metadata.findWithOptions(SnapshotCatalog.COLLECTION, new JsonObject().put("job", job),
                new FindOptions().setFields(FIELDS))).stream().map(CatalogEntry::of).toList();
    }
}
