package io.tidemark.shared.snapshots;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import java.time.Instant;
import java.util.List;

/**
 * The snapshot catalog in the metadata DB ({@code snapshots}): what users list and restore from.
 *
 * <p>An entry is inserted with {@code complete: false} when a snapshot starts, naming the
 * snapshot it deduplicates against ({@code base}) so that a garbage collector treats the base's
 * blocks as referenced by an in-flight snapshot. It is flipped to {@code complete: true} only
 * after every block, every manifest page and the manifest header are durable; that flip is the
 * single moment the snapshot becomes visible, so a crash at any earlier point leaves nothing a
 * user can see, and the next attempt starts afresh under a new id.
 *
 * <p>A complete snapshot that {@code repair} could not make whole again is marked
 * {@code damaged} with the reason: it stays listed (and shown as damaged), but is no longer the
 * "latest complete" snapshot a new one deduplicates against or an unchanged head is answered with,
 * and restores refuse it.
 */
public final class SnapshotCatalog {

    public static final String COLLECTION = "snapshots";

    private final MongoClient db;

    public SnapshotCatalog(MongoClient metadataDb) {
        this.db = metadataDb;
    }

    public Future<Void> createIndexes() {
        return db.createIndexWithOptions(COLLECTION, new JsonObject().put("job", 1).put("createdAt", -1), new IndexOptions())
                .mapEmpty();
    }

    /** Records a snapshot that has started; invisible to {@link #list(String, boolean)} by default. */
    public Future<Void> begin(String snapshotId, String job, OpTime ts, Instant createdAt, String baseSnapshotId) {
        return begin(snapshotId, job, ts, createdAt, baseSnapshotId, null, -1);
    }

    /**
     * The same, recording the incarnation of the head the snapshot is cut from: a later snapshot
     * of the same incarnation may reuse this one's references for namespaces that did not change.
     */
    public Future<Void> begin(String snapshotId, String job, OpTime ts, Instant createdAt, String baseSnapshotId,
                              String headIncarnation, long headModificationSeq) {
        JsonObject doc = new JsonObject()
                .put("_id", snapshotId)
                .put("job", job)
                .put("ts", ts.toJson())
                .put("createdAt", createdAt.toEpochMilli())
                .put("complete", false)
                .put("base", baseSnapshotId)
                .put("headIncarnation", headIncarnation)
                .put("headModificationSeq", headModificationSeq);
        return db.insert(COLLECTION, doc).mapEmpty();
    }

    /** Makes the snapshot visible with its totals. Call only once its manifest is durable. */
    public Future<Void> markComplete(String snapshotId, Manifest manifest) {
        JsonArray namespaces = new JsonArray();
        for (Manifest.Namespace n : manifest.namespaces()) {
            namespaces.add(new JsonObject().put("ns", n.ns()).put("type", n.type()).put("documents", n.documents())
                    .put("logicalBytes", n.logicalBytes()).put("storedBytes", n.storedBytes()));
        }
        JsonObject set = new JsonObject()
                .put("documents", manifest.documents())
                .put("logicalBytes", manifest.logicalBytes())
                .put("storedBytes", manifest.storedBytes())
                .put("blocks", manifest.blocks())
                .put("namespaces", namespaces)
                .put("completedAt", System.currentTimeMillis())
                .put("complete", true)
                // A delta's parent must outlive it: the groomer keeps every ancestor of a live snapshot.
                .put("kind", manifest.chain().kind())
                .put("parent", manifest.chain().parent())
                .put("chainDepth", manifest.chain().depth());
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", snapshotId).put("complete", false),
                        new JsonObject().put("$set", set))
                .map(r -> {
                    if (r == null || r.getDocMatched() != 1) {
                        throw new IllegalStateException("snapshot " + snapshotId + " is not an in-flight catalog entry");
                    }
                    return null;
                });
    }

    /** Notes why an attempt failed; the entry stays invisible. */
    public Future<Void> markFailed(String snapshotId, String error) {
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", snapshotId).put("complete", false),
                new JsonObject().put("$set", new JsonObject().put("failed", true).put("error", error)
                        .put("failedAt", System.currentTimeMillis()))).mapEmpty();
    }

    /**
     * Marks a complete snapshot as damaged, with what is wrong ({@code repair} could not re-create
     * its data); completes with false when there is no such complete snapshot of the job.
     */
    public Future<Boolean> markDamaged(String job, String snapshotId, String reason) {
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", snapshotId).put("job", job).put("complete", true),
                new JsonObject().put("$set", new JsonObject().put("damaged", true).put("damage", reason)
                        .put("damagedAt", System.currentTimeMillis())))
                .map(r -> r != null && r.getDocMatched() == 1);
    }

    /** Whether the catalog entry was marked damaged, and then why. */
    public static String damage(JsonObject entry) {
        return entry.getBoolean("damaged", false) ? entry.getString("damage", "damaged") : null;
    }

    /** The job's snapshots, newest first; complete ones only unless asked otherwise. */
    public Future<List<JsonObject>> list(String job, boolean includeIncomplete) {
        JsonObject query = new JsonObject().put("job", job);
        if (!includeIncomplete) {
            query.put("complete", true);
        }
        return db.findWithOptions(COLLECTION, query,
                new FindOptions().setSort(new JsonObject().put("createdAt", -1).put("_id", -1)));
    }

    /** The entry, or null. */
    public Future<JsonObject> find(String snapshotId) {
        return db.findOne(COLLECTION, new JsonObject().put("_id", snapshotId), null);
    }

    /** The job's newest complete snapshot that is not marked damaged, or null. */
    public Future<JsonObject> latestComplete(String job) {
        return db.findWithOptions(COLLECTION, new JsonObject().put("job", job).put("complete", true)
                                .put("damaged", new JsonObject().put("$ne", true)),
                        new FindOptions().setSort(new JsonObject().put("createdAt", -1).put("_id", -1)).setLimit(1))
                .map(found -> found.isEmpty() ? null : found.get(0));
    }

    /** A catalog entry as the API and CLI show it. */
    public static JsonObject view(JsonObject entry) {
        JsonObject out = new JsonObject()
                .put("id", entry.getString("_id"))
                .put("job", entry.getString("job"))
                .put("ts", entry.getJsonObject("ts"))
                .put("createdAt", Instant.ofEpochMilli(entry.getLong("createdAt")).toString())
                .put("documents", entry.getLong("documents"))
                .put("logicalBytes", entry.getLong("logicalBytes"))
                .put("storedBytes", entry.getLong("storedBytes"))
                .put("complete", entry.getBoolean("complete", false));
        if (entry.getString("kind") != null) {
            out.put("kind", entry.getString("kind")).put("chainDepth", entry.getInteger("chainDepth", 0));
        }
        if (entry.getBoolean("failed", false)) {
            out.put("failed", true).put("error", entry.getString("error"));
        }
        if (damage(entry) != null) {
            out.put("damaged", true).put("damage", damage(entry));
        }
        if (entry.getJsonArray("namespaces") != null) {
            out.put("namespaces", entry.getJsonArray("namespaces"));
        }
        return out;
    }

    /** The position a catalog entry was cut at. */
    public static OpTime ts(JsonObject entry) {
        return OpTime.fromJson(entry.getJsonObject("ts"));
    }
}
