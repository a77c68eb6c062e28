package io.tidemark.groomer;

import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;

/**
 * Takes an expired snapshot out of the catalog and the blockstore, in the order that keeps
 * every intermediate state safe:
 * <ol>
 * <li>the catalog entry is hidden ({@code complete: false, expired: true}): from then on no list,
 *     restore or snapshot base can pick it, and a sweep no longer marks it;
 * <li>the manifest (header, then pages) is deleted;
 * <li>the catalog entry is deleted.
 * </ol>
 * A crash after step 1 leaves an {@code expired} entry that the next groom finishes; no step
 * leaves a visible snapshot without its manifest. Blocks are not touched here: only a sweep,
 * which knows what every other snapshot references, deletes blocks.
 */
final class SnapshotExpirer {

    private final MongoClient metadata;
    private final ManifestStore manifests;
    private final GroomState state;

    SnapshotExpirer(MongoClient metadata, ManifestStore manifests, GroomState state) {
        this.metadata = metadata;
        this.manifests = manifests;
        this.state = state;
    }

    /** Expires one snapshot (or finishes expiring it). Blocks: groomer worker only. */
    void expire(CatalogEntry e) {
        if (e.state() != CatalogEntry.State.EXPIRED) {
            Blocking.await(metadata.updateCollection(SnapshotCatalog.COLLECTION, new JsonObject().put("_id", e.id()),
                    new JsonObject().put("$set", new JsonObject().put("complete", false).put("expired", true)
                            .put("expiredAt", System.currentTimeMillis()))));
            state.addUnswept(e.storedBytes());
        }
        Blocking.await(manifests.delete(e.id()));
        Blocking.await(metadata.removeDocument(SnapshotCatalog.COLLECTION, new JsonObject().put("_id", e.id())));
    }

    /**
     * Drops the manifest pages a failed attempt wrote. They pin nothing (a retry that reuses the
     * blocks looks them up, which the fence records), so they are only clutter. The entry stays,
     * so that {@code snapshots list --all} still shows the failure.
     */
    void dropFailedPages(CatalogEntry e) {
        Blocking.await(manifests.delete(e.id()));
    }
}
