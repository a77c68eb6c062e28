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
 * leaves a visible snapshot without its manifest. A snapshot a live delta builds on is not
 * deleted but kept hidden as a chain base (see {@link #expire}). Blocks are not touched here: only a sweep,
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

    /**
     * Expires one snapshot (or finishes expiring it, or drops a chain base nothing needs any more),
     * unless a live snapshot builds on it: then it stays, hidden, as a chain base. Returns whether
     * it was deleted. Blocks: groomer worker only.
     *
     * <p>The invariant: a snapshot's manifest (and so its blocks, which a sweep marks from it) is
     * never deleted while a complete, in-flight or chain-base entry names it as its {@code parent},
     * or an in-flight entry names it as its {@code base} (which may become its parent). The check
     * for such children comes after the hide, and a snapshot only becomes a delta on a parent it
     * reads as complete after its own entry (naming the base) exists (SnapshotTaker#deltaParent):
     * so either this check sees the child, or the child sees the parent hidden and is taken full.
     * Children never appear on a chain base (it is not complete), and every delta's restore needs
     * only its ancestors, which this keeps, transitively, as long as it lives.
     */
    boolean expire(CatalogEntry e) {
        if (e.state() == CatalogEntry.State.COMPLETE) {
            Blocking.await(metadata.updateCollection(SnapshotCatalog.COLLECTION, new JsonObject().put("_id", e.id()),
                    new JsonObject().put("$set", new JsonObject().put("complete", false).put("expired", true)
                            .put("expiredAt", System.currentTimeMillis()))));
            state.addUnswept(e.storedBytes());
        } else if (e.state() == CatalogEntry.State.CHAIN_BASE) {
            Blocking.await(metadata.updateCollection(SnapshotCatalog.COLLECTION, new JsonObject().put("_id", e.id()),
                    new JsonObject().put("$set", new JsonObject().put("expired", true).put("chainBase", false))));
        }
        if (hasChildren(e.id())) {
            Blocking.await(metadata.updateCollection(SnapshotCatalog.COLLECTION, new JsonObject().put("_id", e.id()),
                    new JsonObject().put("$set", new JsonObject().put("expired", false).put("chainBase", true))));
            return false;
        }
        Blocking.await(manifests.delete(e.id()));
        Blocking.await(metadata.removeDocument(SnapshotCatalog.COLLECTION, new JsonObject().put("_id", e.id())));
        return true;
    }

    /** Whether a live entry builds on {@code id}: a parent of a kept delta or the base of a snapshot in flight. */
    private boolean hasChildren(String id) {
        JsonObject query = new JsonObject().put("$or", new io.vertx.core.json.JsonArray()
                .add(new JsonObject().put("parent", id))
                .add(new JsonObject().put("base", id)));
        for (JsonObject o : Blocking.await(metadata.find(SnapshotCatalog.COLLECTION, query))) {
            CatalogEntry child = CatalogEntry.of(o);
            boolean isParent = id.equals(child.parent()) && (child.complete() || child.state() == CatalogEntry.State.CHAIN_BASE);
            if (isParent || child.inFlight() && id.equals(child.base())) {
                return true;
            }
        }
        return false;
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
