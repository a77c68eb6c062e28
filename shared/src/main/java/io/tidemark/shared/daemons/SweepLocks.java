package io.tidemark.shared.daemons;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps block sweeps and other daemons' snapshots apart when several daemons share one block
 * store (metadata DB collection {@code blockLocks}).
 *
 * <p>The race. Blocks are shared across jobs by content. A snapshot that looks a block up, finds
 * it, and only references it, while a sweep on another daemon decides the same block is garbage
 * and deletes it, would complete with a missing block. Within one process the groomer's block
 * fence closes this; it cannot see another process's lookups.
 *
 * <p>The lock. A snapshot writes a document of its own ({@code snapshot:<id>}, with a lease) before
 * it looks anything up, then reads the sweep document; a sweep writes the sweep document before its
 * final mark and deletes, then reads the snapshot documents. Each side writes first and reads
 * second, on a store whose single-document operations are linearizable, so at least one side sees
 * the other: either the snapshot waits for the sweep to end, or the sweep waits for the snapshot
 * to end (it is then complete, and the sweep's re-read of the catalog marks its blocks). Only
 * other daemons' documents count: this daemon's own snapshots are the fence's.
 *
 * <p>Leases, and a paused daemon. Every document has a lease ({@code until}), renewed while held,
 * so a crashed daemon blocks nobody for longer than the lease. A daemon paused past its
 * snapshot's lease could let a sweep run under it; each sweep therefore counts itself
 * ({@code sweeps:<daemon>}), and a snapshot completes only if no other daemon's count moved since
 * it was admitted ({@link #unswept}); otherwise it fails, invisible, and the next one is taken.
 */
public final class SweepLocks {

    private static final Logger LOG = LoggerFactory.getLogger(SweepLocks.class);
    static final String COLLECTION = "blockLocks";
    private static final String SWEEP = "sweep";
    private static final long POLL_MILLIS = 1_000;

    private final Vertx vertx;
    private final MongoClient db;
    private final String daemon;
    private final long leaseMillis;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final long renewTimer;

    public SweepLocks(Vertx vertx, MongoClient db, String daemon, long leaseMillis) {
        this.vertx = vertx;
        this.db = db;
        this.daemon = daemon;
        this.leaseMillis = leaseMillis;
        this.renewTimer = vertx.setPeriodic(Math.max(1_000, leaseMillis / 4), t -> renew());
    }

    /** The locks of a daemon's snapshots and sweeps; none for a sole writer, which no other daemon shares a store with. */
    public static SweepLocks of(Vertx vertx, MongoClient db, JobFence fence, long leaseMillis) {
        return fence.daemon() == null ? null : new SweepLocks(vertx, db, fence.daemon(), leaseMillis);
    }

    public void close() {
        vertx.cancelTimer(renewTimer);
    }

    /**
     * Admits a snapshot: once no other daemon's sweep holds the store (it waits meanwhile).
     * Completes with the other daemons' sweep count, for {@link #unswept}.
     */
    public Future<Long> admitSnapshot(String snapshotId) {
        String id = "snapshot:" + snapshotId;
        Promise<Long> admitted = Promise.promise();
        tryAdmit(id, snapshotId, admitted, false);
        return admitted.future();
    }

    private void tryAdmit(String id, String snapshotId, Promise<Long> admitted, boolean waited) {
        hold(id, new JsonObject().put("kind", "snapshot"))
                .compose(v -> db.findOne(COLLECTION, new JsonObject().put("_id", SWEEP), null))
                .onFailure(admitted::tryFail)
                .onSuccess(sweep -> {
                    if (sweep == null || daemon.equals(sweep.getString("daemon")) || sweep.getLong("until", 0L) < System.currentTimeMillis()) {
                        othersSweeps().onComplete(admitted);
                        return;
                    }
                    if (!waited) {
                        LOG.info("snapshot {} waits for daemon {}'s block sweep to end", snapshotId, sweep.getString("daemon"));
                    }
                    // Stepped back while waiting, so that the sweep is not kept waiting for this one in turn.
                    release(id).onComplete(r -> vertx.setTimer(POLL_MILLIS, t -> tryAdmit(id, snapshotId, admitted, true)));
                });
    }

    /**
     * Fails when another daemon swept since the snapshot was admitted with {@code admittedCount}:
     * only possible if this daemon was paused past the snapshot's lease. Call just before the
     * snapshot becomes complete.
     */
    public Future<Void> unswept(String snapshotId, long admittedCount) {
        return othersSweeps().compose(now -> now == admittedCount ? Future.succeededFuture()
                : Future.failedFuture(new IllegalStateException("another daemon swept blocks while snapshot " + snapshotId
                        + " ran past its lease on the block store (this daemon was paused?); it may name a deleted block, so it"
                        + " stays incomplete and the next snapshot is taken anew")));
    }

    public Future<Void> releaseSnapshot(String snapshotId) {
        return release("snapshot:" + snapshotId);
    }

    /**
     * Takes the sweep lock and waits, up to {@code maxWaitMillis}, until no other daemon's snapshot
     * is in flight. False (and nothing held) when another daemon sweeps now or its snapshots did
     * not end in time: this sweep then deletes nothing, and a later one does.
     */
    public Future<Boolean> acquireSweep(long maxWaitMillis) {
        long now = System.currentTimeMillis();
        JsonObject free = new JsonObject().put("_id", SWEEP).put("$or", new io.vertx.core.json.JsonArray()
                .add(new JsonObject().put("until", new JsonObject().put("$lt", now)))
                .add(new JsonObject().put("daemon", daemon)));
        JsonObject set = new JsonObject().put("$set", new JsonObject().put("daemon", daemon).put("until", now + leaseMillis)
                .put("startedAt", now));
        return db.updateCollectionWithOptions(COLLECTION, free, set, new UpdateOptions().setUpsert(true))
                .map(r -> true)
                // A live sweep document of another daemon: the upsert collides with its _id.
                .recover(e -> Future.succeededFuture(false))
                .compose(won -> {
                    if (!won) {
                        return Future.succeededFuture(false);
                    }
                    held.add(SWEEP);
                    // Counted once no live snapshot of another daemon is left, before anything is deleted:
                    // only a snapshot whose lease ran out (its daemon paused) can see the count move.
                    return dropLongExpired().compose(v -> awaitNoOtherSnapshots(System.currentTimeMillis() + maxWaitMillis))
                            .compose(clear -> !clear ? releaseSweep().map(false)
                                    : db.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", "sweeps:" + daemon),
                                            new JsonObject().put("$inc", new JsonObject().put("count", 1L))
                                                    .put("$set", new JsonObject().put("kind", "sweeps").put("daemon", daemon)),
                                            new UpdateOptions().setUpsert(true)).map(true));
                });
    }

    public Future<Void> releaseSweep() {
        return release(SWEEP);
    }

    /** Documents of snapshots whose daemon died (their lease long over) are dropped; they hold nobody up anyway. */
    private Future<Void> dropLongExpired() {
        return db.removeDocuments(COLLECTION, new JsonObject().put("kind", "snapshot")
                        .put("until", new JsonObject().put("$lt", System.currentTimeMillis() - leaseMillis)))
                .<Void>mapEmpty().otherwiseEmpty();
    }

    private Future<Boolean> awaitNoOtherSnapshots(long deadline) {
        JsonObject others = new JsonObject().put("kind", "snapshot").put("daemon", new JsonObject().put("$ne", daemon))
                .put("until", new JsonObject().put("$gte", System.currentTimeMillis()));
        return db.count(COLLECTION, others).compose(n -> {
            if (n == 0) {
                return Future.succeededFuture(true);
            }
            if (System.currentTimeMillis() > deadline) {
                LOG.info("block sweep: {} snapshots of other daemons still run; no block is deleted this time", n);
                return Future.succeededFuture(false);
            }
            Promise<Boolean> later = Promise.promise();
            vertx.setTimer(POLL_MILLIS, t -> awaitNoOtherSnapshots(deadline).onComplete(later));
            return later.future();
        });
    }

    /** The sum of the other daemons' sweep counts. */
    private Future<Long> othersSweeps() {
        return db.find(COLLECTION, new JsonObject().put("kind", "sweeps"))
                .map(docs -> docs.stream().filter(d -> !daemon.equals(d.getString("daemon")))
                        .mapToLong(d -> d.getLong("count", 0L)).sum());
    }

    private Future<Void> hold(String id, JsonObject fields) {
        held.add(id);
        return db.updateCollectionWithOptions(COLLECTION, new JsonObject().put("_id", id), new JsonObject().put("$set",
                        fields.copy().put("daemon", daemon).put("until", System.currentTimeMillis() + leaseMillis)),
                new UpdateOptions().setUpsert(true)).mapEmpty();
    }

    private Future<Void> release(String id) {
        held.remove(id);
        return db.removeDocument(COLLECTION, new JsonObject().put("_id", id).put("daemon", daemon)).mapEmpty();
    }

    private void renew() {
        long until = System.currentTimeMillis() + leaseMillis;
        for (String id : held) {
            db.updateCollection(COLLECTION, new JsonObject().put("_id", id).put("daemon", daemon),
                            new JsonObject().put("$set", new JsonObject().put("until", until)))
                    .onFailure(e -> LOG.warn("block lock {}: renewal failed (trying again): {}", id, e.getMessage()));
        }
    }
}
