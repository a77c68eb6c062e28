package io.tidemark.ingest;

import io.tidemark.shared.bson.BsonFrames;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.CompressedPayload;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Futures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonType;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives an initial sync: its start, each collection's catalog entry, the document slices, and
 * its end. Everything is tagged with the sync's generation, so a restarted sync never mixes with
 * the remains of an earlier attempt.
 */
final class SyncIntake {

    private static final Logger LOG = LoggerFactory.getLogger(SyncIntake.class);

    private final Vertx vertx;
    private final Context context;
    private final Stores stores;
    private final IngestMetrics metrics;
    private final JobSerializer serializer;
    private final OplogIntake oplog;
    /** Parses and compresses slices (up to 10 MiB each) off the event loop. */
    private final WorkerExecutor codec;

    SyncIntake(Vertx vertx, Context context, Stores stores, IngestMetrics metrics, JobSerializer serializer, OplogIntake oplog) {
        this.vertx = vertx;
        this.context = context;
        this.stores = stores;
        this.metrics = metrics;
        this.serializer = serializer;
        this.oplog = oplog;
        this.codec = CodecWorkers.of(vertx);
    }

    /** Starts a new sync generation: earlier slices and the oplog chain are discarded. */
    Future<JsonObject> begin(String jobId, OpTime startTs, OpTime fetchStartTs, String fetchStartSha256) {
        if (fetchStartTs.isAfter(startTs)) {
            throw ApiException.badRequest("fetchStartTs " + fetchStartTs + " must not be after startTs " + startTs);
        }
        return serializer.run(jobId, () -> stores.jobs().find(jobId).compose(job -> {
            JobState state = JobStore.state(job);
            if (state != JobState.INITIAL_SYNC) {
                throw ApiException.conflict("job " + jobId + " is " + state + "; an initial sync can begin only in INITIAL_SYNC"
                        + (state == JobState.RESYNC_REQUIRED ? " (an operator starts one with 'tidemark jobs resync')" : ""),
                        new JsonObject().put("state", state.name()));
            }
            long gen = job.getJsonObject("sync", new JsonObject()).getLong("generation", 0L) + 1;
            LOG.info("job {}: initial sync generation {} begins at {} (oplog fetched from {})", jobId, gen, startTs, fetchStartTs);
            return Futures.of(stores.sync().deleteOtherGenerations(jobId, gen)
                            .then(stores.oplog().deleteJob(jobId)), context)
                    .compose(v -> stores.jobs().set(jobId, new JsonObject()
                            .put("sync", new JsonObject().put("generation", gen).put("startTs", startTs.toJson())
                                    .put("fetchStartTs", fetchStartTs.toJson()).put("fetchStartSha256", fetchStartSha256)
                                    .put("complete", false)
                                    .put("startedAt", System.currentTimeMillis()))
                            .put("storedTs", fetchStartTs.toJson())
                            .putNull("error")))
                    .map(v -> {
                        oplog.resetTip(jobId, gen, fetchStartTs, fetchStartSha256);
                        return new JsonObject().put("generation", gen);
                    });
        }));
    }

    Future<Void> collection(String jobId, long gen, String ns, byte[] body) {
        return runningSync(jobId, gen).compose(job -> codec.executeBlocking(() -> parseCollection(ns, body), false))
                .compose(doc -> Futures.of(stores.sync().putCollection(jobId, gen, ns,
                        doc.getDocument("info"), doc.getArray("indexes")), context));
    }

    Future<Integer> slice(String jobId, long gen, String ns, long seq, byte[] body) {
        checkNamespace(ns);
        if (seq < 0) {
            throw ApiException.badRequest("slice sequence numbers start at 0");
        }
        return runningSync(jobId, gen)
                .compose(job -> codec.executeBlocking(() -> {
                    int n = BsonFrames.split(body).size();
                    if (n == 0) {
                        throw ApiException.badRequest("a slice needs at least one document");
                    }
                    return new Slice(n, CompressedPayload.of(body));
                }, false))
                .compose(slice -> Futures.of(stores.sync().putSlice(jobId, gen, ns, seq, slice.documents(), slice.payload()),
                        context).map(v -> {
                    metrics.sliceStored(jobId, slice.documents(), body.length);
                    return slice.documents();
                }));
    }

    /** Ends the sync once every document the agent copied is durable; the job becomes ACTIVE. */
    Future<JsonObject> end(String jobId, long gen, OpTime endTs, long documents) {
        return serializer.run(jobId, () -> runningSync(jobId, gen).compose(job -> {
            OpTime startTs = OpTime.fromJson(job.getJsonObject("sync").getJsonObject("startTs"));
            if (startTs.isAfter(endTs)) {
                throw ApiException.badRequest("endTs " + endTs + " is before the sync's start " + startTs);
            }
            return Futures.of(stores.sync().totals(jobId, gen), context).compose(totals -> {
                if (totals[1] != documents) {
                    throw ApiException.conflict("the sync is incomplete: " + totals[1] + " of " + documents
                            + " documents are stored", new JsonObject().put("storedDocuments", totals[1]));
                }
                JsonObject sync = job.getJsonObject("sync").copy().put("endTs", endTs.toJson()).put("complete", true)
                        .put("completedAt", System.currentTimeMillis()).put("documents", totals[1])
                        .put("slices", totals[0]).put("bytes", totals[2]);
                return stores.jobs().setIfState(jobId, JobState.INITIAL_SYNC, new JsonObject().put("sync", sync)
                                .put("state", JobState.ACTIVE.name()))
                        .map(changed -> {
                            if (!changed) {
                                throw ApiException.conflict("job " + jobId + " left INITIAL_SYNC during the sync", null);
                            }
                            LOG.info("job {}: initial sync generation {} complete: {} documents in {} slices, end position {}",
                                    jobId, gen, totals[1], totals[0], endTs);
                            vertx.eventBus().publish(Addresses.SYNC_COMPLETED, new JsonObject().put("job", jobId)
                                    .put("generation", gen).put("startTs", startTs.toJson()).put("endTs", endTs.toJson()));
                            vertx.eventBus().publish(Addresses.JOB_STATE, new JsonObject().put("job", jobId)
                                    .put("state", JobState.ACTIVE.name()));
                            return new JsonObject().put("state", JobState.ACTIVE.name());
                        });
            });
        }));
    }

    private Future<JsonObject> runningSync(String jobId, long gen) {
        return stores.jobs().find(jobId).map(job -> {
            JsonObject sync = job.getJsonObject("sync", new JsonObject());
            if (JobStore.state(job) != JobState.INITIAL_SYNC || sync.getLong("generation", 0L) != gen
                    || sync.getBoolean("complete", false)) {
                metrics.rejected("stale-sync");
                throw ApiException.conflict("sync generation " + gen + " of job " + jobId + " is not running (job is "
                        + job.getString("state") + ", current generation " + sync.getLong("generation", 0L) + ")",
                        new JsonObject().put("state", job.getString("state")).put("generation", sync.getLong("generation", 0L)));
            }
            return job;
        });
    }

    private static BsonDocument parseCollection(String ns, byte[] body) {
        checkNamespace(ns);
        var frames = BsonFrames.split(body);
        if (frames.size() != 1) {
            throw ApiException.badRequest("a collection entry is exactly one BSON document {info, indexes}");
        }
        RawBsonDocument doc = new RawBsonDocument(body);
        if (!doc.isDocument("info") || !doc.isArray("indexes") || doc.size() != 2) {
            throw ApiException.badRequest("a collection entry has exactly 'info' (listCollections entry) and 'indexes' (array)");
        }
        BsonDocument info = doc.getDocument("info");
        if (!info.isString("name") || !info.getString("name").getValue().equals(ns.substring(ns.indexOf('.') + 1))) {
            throw ApiException.badRequest("info.name must be the collection's name in " + ns);
        }
        BsonArray indexes = doc.getArray("indexes");
        for (var index : indexes) {
            if (index.getBsonType() != BsonType.DOCUMENT) {
                throw ApiException.badRequest("every index spec must be a document");
            }
        }
        return doc.clone();
    }

    /** A validated slice: its document count and its bytes compressed for the store. */
    private record Slice(int documents, CompressedPayload payload) {
    }

    static void checkNamespace(String ns) {
        int dot = ns == null ? -1 : ns.indexOf('.');
        if (dot <= 0 || dot == ns.length() - 1 || ns.length() > 255) {
            throw ApiException.badRequest("'" + ns + "' is not a namespace (db.collection)");
        }
    }
}
