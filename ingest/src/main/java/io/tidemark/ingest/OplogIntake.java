package io.tidemark.ingest;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.CompressedPayload;
import io.tidemark.shared.store.OplogStore;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Futures;
import io.tidemark.shared.util.LatestValueWriter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * Appends agents' oplog batches to the oplog store. A batch is accepted only where it continues
 * the stored chain exactly ({@code prev} equals the stored tip); its acknowledgement is sent only
 * once the store has it durably; a resent batch is acknowledged again without being stored twice.
 * Validation, hashing and compression run on the codec workers, inside the job's serialized
 * chain, so one job's batches are still stored strictly one after another.
 */
final class OplogIntake {

    private final Vertx vertx;
    private final Context context;
    private final Stores stores;
    private final IngestMetrics metrics;
    private final JobSerializer serializer;
    private final WorkerExecutor codec;
    /**
     * How long a remembered tip is trusted as a hint. Other front ends append to the same chain, so
     * the tip this process saw last may be behind; the hint only saves a read when the next batch
     * continues exactly from it, and even then the store's key on {@code prev} refuses a second
     * batch at a place that is already taken. The age bound keeps a stale hint from pointing at a
     * batch that a groom has since trimmed (the only way a taken place becomes free again).
     */
    private static final long HINT_MILLIS = 10_000;

    /**
     * Last durable position per job as this process last saw it; confined to the event loop; a
     * hint, never the authority (see {@link #HINT_MILLIS}): the oplog store is.
     */
    private final Map<String, Hint> tips = new HashMap<>();

    /** Where a job's stored oplog ends: the position, and the digest of the entry there when known. */
    record Tip(OpTime ts, String sha256) {
    }

    /** A tip as seen at {@code seenAt} for the job's sync generation {@code generation}. */
    private record Hint(Tip tip, long generation, long seenAt) {
    }
    /** Copies the tip to the job document for status, so the ack path never waits on it. */
    private final LatestValueWriter<OpTime> storedTs;

    OplogIntake(Vertx vertx, Context context, Stores stores, IngestMetrics metrics, JobSerializer serializer) {
        this.vertx = vertx;
        this.context = context;
        this.stores = stores;
        this.metrics = metrics;
        this.serializer = serializer;
        this.codec = CodecWorkers.of(vertx);
        this.storedTs = new LatestValueWriter<>("storedTs", stores.jobs()::recordStored);
    }

    /**
     * The last durable oplog position of a job whose sync has begun, else null, read from the
     * store: what an agent resumes from must be the chain's end, whichever front end stored it.
     */
    Future<Tip> tip(JsonObject job) {
        String id = job.getString("_id");
        return Futures.of(stores.oplog().latest(id), context).map(latest -> {
            OpTime start = syncFetchStart(job);
            Tip tip = latest != null ? new Tip(latest.last(), latest.lastSha256())
                    : start == null ? null : new Tip(start, job.getJsonObject("sync").getString("fetchStartSha256"));
            remember(id, generation(job), tip);
            return tip;
        });
    }

    /** The remembered tip when it is fresh and of the job's current sync generation, else the store's. */
    private Future<Tip> hintedTip(JsonObject job) {
        Hint hint = tips.get(job.getString("_id"));
        if (hint != null && hint.generation() == generation(job) && System.currentTimeMillis() - hint.seenAt() < HINT_MILLIS) {
            return Future.succeededFuture(hint.tip());
        }
        return tip(job);
    }

    private void remember(String job, long generation, Tip tip) {
        if (tip == null) {
            tips.remove(job);
        } else {
            tips.put(job, new Hint(tip, generation, System.currentTimeMillis()));
        }
    }

    void resetTip(String job, long generation, OpTime ts, String sha256) {
        remember(job, generation, new Tip(ts, sha256));
    }

    private static long generation(JsonObject job) {
        return job.getJsonObject("sync", new JsonObject()).getLong("generation", 0L);
    }

    Future<OpTime> accept(String jobId, OpTime prev, byte[] body, long arrivedNanos) {
        return serializer.run(jobId, () -> stores.jobs().find(jobId).compose(job -> {
            JobState state = JobStore.state(job);
            if (state != JobState.ACTIVE && state != JobState.INITIAL_SYNC || syncFetchStart(job) == null) {
                metrics.rejected("job-state");
                throw ApiException.conflict("job " + jobId + " does not accept oplog now: it is " + state
                        + (syncFetchStart(job) == null ? " and no initial sync has begun" : ""),
                        new JsonObject().put("state", state.name()));
            }
            return hintedTip(job).compose(hinted -> hinted != null && prev.equals(hinted.ts()) ? Future.succeededFuture(hinted)
                    // Not where this process last saw the chain end: another front end may have
                    // stored since, so decide on the store's tip, not on the hint.
                    : tip(job)).map(t -> t == null ? null : t.ts()).compose(tip -> {
                if (prev.equals(tip)) {
                    return append(job, prev, body, arrivedNanos);
                }
                if (prev.isAfter(tip)) {
                    metrics.rejected("gap");
                    throw ApiException.conflict("gap: the batch follows " + prev + " but the stored oplog ends at " + tip,
                            new JsonObject().put("storedTs", tip.toJson()));
                }
                return resent(jobId, prev, body, tip);
            });
        }));
    }

    private Future<OpTime> append(JsonObject job, OpTime prev, byte[] body, long arrivedNanos) {
        String jobId = job.getString("_id");
        long generation = generation(job);
        return codec.executeBlocking(() -> {
                    OplogBatch parsed = OplogBatch.parse(prev, body);
                    return new Compressed(parsed, CompressedPayload.of(parsed.raw()));
                }, false)
                .compose(ready -> Futures.of(stores.oplog().store(jobId, prev, ready.batch().first(), ready.batch().last(),
                                ready.batch().count(), ready.payload(), ready.batch().lastSha256()), context)
                        .map(result -> ready.batch())
                        .map(batch -> {
                            remember(jobId, generation, new Tip(batch.last(), batch.lastSha256()));
                            metrics.batchStored(jobId, batch.count(), batch.raw().length, System.nanoTime() - arrivedNanos);
                            vertx.eventBus().publish(Addresses.OPLOG_STORED,
                                    new JsonObject().put("job", jobId).put("storedTs", batch.last().toJson()));
                            storedTs.submit(jobId, batch.last());
                            return batch.last();
                        }))
                .recover(e -> {
                    if (e instanceof ApiException) {
                        return Future.failedFuture(e);
                    }
                    tips.remove(jobId);
                    if (!(e instanceof OplogStore.ChainConflict)) {
                        return Future.failedFuture(e);
                    }
                    // Another front end stored a different batch at this place first (two
                    // writers of one job): the chain stays single; this agent resumes from its end.
                    metrics.rejected("overlap");
                    return tip(job).compose(now -> Future.failedFuture(ApiException.conflict("the batch after " + prev
                            + " was stored differently through another front end; the stored oplog ends at " + now.ts()
                            + "; resume from there", new JsonObject().put("storedTs", now.ts().toJson()))));
                });
    }

    /** A batch before the tip: acknowledged if it is exactly a batch we hold, refused otherwise. */
    private Future<OpTime> resent(String jobId, OpTime prev, byte[] body, OpTime tip) {
        return Futures.of(stores.oplog().following(jobId, prev), context).compose(stored ->
                codec.executeBlocking(() -> OplogBatch.parse(prev, body), false).map(batch -> {
                    if (stored != null && stored.last().equals(batch.last()) && stored.count() == batch.count()) {
                        metrics.batchOutcome(jobId, "duplicate");
                        return stored.last();
                    }
                    metrics.rejected("overlap");
                    throw ApiException.conflict("the batch after " + prev + " overlaps the stored oplog, which ends at "
                            + tip + "; resume from there", new JsonObject().put("storedTs", tip.toJson()));
                }));
    }

    /** A validated batch and its entries compressed for the store. */
    private record Compressed(OplogBatch batch, CompressedPayload payload) {
    }

    static OpTime syncFetchStart(JsonObject job) {
        JsonObject sync = job.getJsonObject("sync");
        return sync == null ? null : OpTime.fromJson(sync.getJsonObject("fetchStartTs"));
    }
}
