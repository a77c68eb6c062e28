package io.tidemark.ingest;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.CompressedPayload;
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
    /** Last durable position per job; confined to the event loop; reloaded from the store when unknown. */
    private final Map<String, Tip> tips = new HashMap<>();

    /** Where a job's stored oplog ends: the position, and the digest of the entry there when known. */
    record Tip(OpTime ts, String sha256) {
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

    /** The last durable oplog position of a job whose sync has begun, else null. */
    Future<Tip> tip(JsonObject job) {
        String id = job.getString("_id");
        Tip cached = tips.get(id);
        if (cached != null) {
            return Future.succeededFuture(cached);
        }
        return Futures.of(stores.oplog().latest(id), context).map(latest -> {
            OpTime start = syncFetchStart(job);
            Tip tip = latest != null ? new Tip(latest.last(), latest.lastSha256())
                    : start == null ? null : new Tip(start, job.getJsonObject("sync").getString("fetchStartSha256"));
            if (tip != null) {
                tips.put(id, tip);
            }
            return tip;
        });
    }

    void resetTip(String job, OpTime ts, String sha256) {
        tips.put(job, new Tip(ts, sha256));
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
            return tip(job).map(Tip::ts).compose(tip -> {
                if (prev.equals(tip)) {
                    return append(jobId, prev, body, arrivedNanos);
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

    private Future<OpTime> append(String jobId, OpTime prev, byte[] body, long arrivedNanos) {
        return codec.executeBlocking(() -> {
                    OplogBatch parsed = OplogBatch.parse(prev, body);
                    return new Compressed(parsed, CompressedPayload.of(parsed.raw()));
                }, false)
                .compose(ready -> Futures.of(stores.oplog().store(jobId, prev, ready.batch().first(), ready.batch().last(),
                                ready.batch().count(), ready.payload(), ready.batch().lastSha256()), context)
                        .map(result -> ready.batch())
                        .map(batch -> {
                            tips.put(jobId, new Tip(batch.last(), batch.lastSha256()));
                            metrics.batchStored(jobId, batch.count(), batch.raw().length, System.nanoTime() - arrivedNanos);
                            vertx.eventBus().publish(Addresses.OPLOG_STORED,
                                    new JsonObject().put("job", jobId).put("storedTs", batch.last().toJson()));
                            storedTs.submit(jobId, batch.last());
                            return batch.last();
                        }))
                .onFailure(e -> {
                    if (!(e instanceof ApiException)) {
                        tips.remove(jobId);
                    }
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
