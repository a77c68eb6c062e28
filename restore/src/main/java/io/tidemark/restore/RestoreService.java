package io.tidemark.restore;

import io.tidemark.restore.push.PushOptions;
import io.tidemark.restore.push.Pusher;
import io.tidemark.restore.snapshot.SnapshotRestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Futures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Restore jobs: validates and records a request, hands out its single-use download link, and
 * when the link is used, opens the source (a snapshot's blocks, or a point-in-time source from
 * {@link PointInTimeSources}) and turns it into the archive stream the download route sends.
 *
 * <p>Nothing here blocks: stores are reached asynchronously, block reads run on the block
 * store's own threads and archive framing and compression on {@code cpu}. All methods return on
 * the caller's Vert.x context.
 */
public final class RestoreService {

    private static final Logger LOG = LoggerFactory.getLogger(RestoreService.class);

    /**
     * Blocks read and verified ahead of the archive stream, per download: about 1 MB at the
     * snapshotter's 256 KiB average block, 4 MB at its 1 MiB maximum; enough to keep two cores
     * busy decompressing and hashing while the socket drains.
     */
    static final int BLOCK_PREFETCH = 4;
    private static final int LIST_LIMIT = 100;

    private final JobStore jobs;
    private final SnapshotCatalog catalog;
    private final ManifestStore manifests;
    private final BlockReader blocks;
    private final PointInTimeSources pointInTime;
    private final RestoreRecords records;
    private final Duration linkTtl;
    private final Clock clock;
    private final Scheduler cpu;
    private final RestoreMetrics metrics = RestoreMetrics.global();
    private final Pusher pusher = new Pusher();

    /** A restore whose link was just used: its record, its open source and the archive to send. */
    record Download(JsonObject record, RestoreSource source, Flux<ByteBuffer> body, String filename, long startNanos) {
        String id() {
            return record.getString("_id");
        }

        String job() {
            return record.getString("job");
        }

        boolean gzip() {
            return record.getBoolean("gzip", false);
        }
    }

    /**
     * The server's restore service. {@code pointInTime} may be null: point-in-time requests are
     * then refused with 501.
     */
    public static RestoreService create(TidemarkConfig config, Stores stores, BlockStore blocks,
            PointInTimeSources pointInTime) {
        return new RestoreService(stores, blocks, pointInTime, Duration.ofMinutes(config.restore().linkTtlMinutes()),
                Clock.systemUTC(), Schedulers.parallel());
    }

    /**
     * @param linkTtl how long a download link stays valid
     * @param clock the time links are created and checked against (tests move it)
     * @param cpu where archive framing, checksums and gzip run: a parallel scheduler
     */
    public RestoreService(Stores stores, BlockStore blocks, PointInTimeSources pointInTime, Duration linkTtl,
            Clock clock, Scheduler cpu) {
        this.jobs = stores.jobs();
        this.catalog = new SnapshotCatalog(stores.metadata());
        this.manifests = new ManifestStore(stores.blockstore().database());
        this.blocks = new BlockReader(blocks, BLOCK_PREFETCH);
        this.pointInTime = pointInTime;
        this.records = new RestoreRecords(stores.metadata());
        this.linkTtl = Objects.requireNonNull(linkTtl, "linkTtl");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.cpu = Objects.requireNonNull(cpu, "cpu");
    }

    /** Indexes of the {@code restores} collection; call once at start-up. */
    public Future<Void> createIndexes() {
        return records.createIndexes();
    }

    /**
     * Creates a restore of {@code jobIdOrName} from a {@code POST /jobs/:job/restores} body and
     * returns what the API answers: the restore with its download link, which is shown only here.
     */
    public Future<JsonObject> create(String jobIdOrName, JsonObject body) {
        RestoreRequest request;
        try {
            request = RestoreRequest.fromJson(body);
        } catch (ApiException e) {
            return Future.failedFuture(e);
        }
        Context context = Vertx.currentContext();
        return jobs.resolve(jobIdOrName).compose(job -> {
            String jobId = job.getString("_id");
            Future<JsonObject> what = request.pointInTime()
                    ? pointInTimeTarget(jobId, request, context) : snapshotTarget(jobId, request.snapshotId());
            return what.compose(target -> {
                if (request.delivery() == RestoreRequest.Delivery.PUSH) {
                    return startPush(target, jobId, request, context);
                }
                String token = DownloadLinks.newToken();
                long now = clock.millis();
                JsonObject record = target
                        .put("_id", new ObjectId().toHexString())
                        .put("job", jobId)
                        .put("gzip", request.gzip())
                        .put("delivery", request.delivery().wireName())
                        .put("state", RestoreState.READY.name())
                        .put("createdAt", now)
                        .put("expiresAt", now + linkTtl.toMillis())
                        .put("tokenHash", DownloadLinks.hash(token));
                return records.insert(record).map(v -> view(record, now).put("downloadUrl", DownloadLinks.path(token)));
            });
        });
    }

    /** {@code GET /restores/:id}. */
    public Future<JsonObject> status(String id) {
        return records.find(id).map(record -> {
            if (record == null) {
                throw new ApiException(404, "no restore " + id);
            }
            return view(record, clock.millis());
        });
    }

    /** The job's restores, newest first (at most {@value #LIST_LIMIT}). */
    public Future<JsonArray> list(String jobIdOrName) {
        long now = clock.millis();
        return jobs.resolve(jobIdOrName)
                .compose(job -> records.list(job.getString("_id"), LIST_LIMIT))
                .map(found -> {
                    JsonArray out = new JsonArray();
                    found.forEach(r -> out.add(view(r, now)));
                    return out;
                });
    }

    /**
     * Uses a download link: marks its restore STREAMING (once, atomically) and opens the source.
     * Fails with 404 for an unknown link and 410 for a used or expired one, saying which.
     */
    Future<Download> claim(String token) {
        if (!DownloadLinks.wellFormed(token)) {
            return Future.failedFuture(unknownLink());
        }
        String hash = DownloadLinks.hash(token);
        long now = clock.millis();
        Context context = Vertx.currentContext();
        return records.claim(hash, now).compose(record -> record != null
                ? open(record, context)
                : explainUnusable(hash, now));
    }

    /** Records how a download ended; {@code error} is null when every byte was sent. */
    Future<Void> finished(Download download, long bytes, Throwable error) {
        long now = clock.millis();
        JsonObject fields = new JsonObject().put("bytes", bytes).put("finishedAt", now);
        if (error == null) {
            metrics.delivered(download.job(), Duration.ofNanos(System.nanoTime() - download.startNanos()));
            return records.transition(download.id(), RestoreState.STREAMING, RestoreState.DELIVERED, fields).mapEmpty();
        }
        String message = describe(error);
        LOG.warn("restore {} of job {} failed after {} bytes: {}", download.id(), download.job(), bytes, message);
        metrics.failed(download.job());
        return records.transition(download.id(), RestoreState.STREAMING, RestoreState.FAILED, fields.put("error", message))
                .mapEmpty();
    }

    /**
     * Records a push (PENDING) and runs it in the background: the answer comes at once, and
     * {@code GET /restores/:id} follows it to DELIVERED or FAILED. The target URI is recorded
     * without its credentials.
     */
    private Future<JsonObject> startPush(JsonObject target, String jobId, RestoreRequest request, Context context) {
        long now = clock.millis();
        JsonObject record = target
                .put("_id", new ObjectId().toHexString())
                .put("job", jobId)
                .put("gzip", false)
                .put("delivery", request.delivery().wireName())
                .put("target", redact(request.target()))
                .put("drop", request.drop())
                .put("state", RestoreState.PENDING.name())
                .put("createdAt", now);
        return records.insert(record).map(v -> {
            runPush(record, request.target(), request.drop(), context);
            return view(record, now);
        });
    }

    private void runPush(JsonObject record, String targetUri, boolean drop, Context context) {
        String id = record.getString("_id");
        long start = System.nanoTime();
        AtomicLong pushed = new AtomicLong();
        records.transition(id, RestoreState.PENDING, RestoreState.STREAMING, new JsonObject().put("startedAt", clock.millis()))
                .compose(v -> future(Mono.usingWhen(openSource(record),
                        source -> pusher.push(source, targetUri, PushOptions.defaults().withDrop(drop),
                                (ns, bytes, documents) -> pushed.set(bytes)),
                        source -> Mono.fromRunnable(() -> closeQuietly(source, record)).subscribeOn(Schedulers.boundedElastic())),
                        context))
                .onSuccess(summary -> {
                    metrics.delivered(record.getString("job"), Duration.ofNanos(System.nanoTime() - start));
                    records.transition(id, RestoreState.STREAMING, RestoreState.DELIVERED, new JsonObject()
                            .put("bytes", summary.bytes()).put("documents", summary.documents())
                            .put("finishedAt", clock.millis()).put("summary", summary.toJson()));
                })
                .onFailure(e -> {
                    LOG.warn("restore {} (push of job {}) failed: {}", id, record.getString("job"), describe(e));
                    metrics.failed(record.getString("job"));
                    records.transition(id, RestoreState.STREAMING, RestoreState.FAILED, new JsonObject()
                            .put("bytes", pushed.get()).put("finishedAt", clock.millis()).put("error", describe(e)));
                });
    }

    private static String redact(String uri) {
        return uri.replaceAll("//[^@/]*@", "//***@");
    }

    private Future<JsonObject> snapshotTarget(String jobId, String snapshotId) {
        return catalog.find(snapshotId).map(entry -> {
            if (entry == null || !jobId.equals(entry.getString("job"))) {
                throw new ApiException(404, "job " + jobId + " has no snapshot " + snapshotId
                        + "; list its snapshots with: tidemark snapshots list --job " + jobId);
            }
            if (!entry.getBoolean("complete", false)) {
                throw new ApiException(409, "snapshot " + snapshotId + " is not complete ("
                        + (entry.getBoolean("failed", false) ? "it failed: " + entry.getString("error") : "it is still running")
                        + "); only complete snapshots can be restored");
            }
            if (SnapshotCatalog.damage(entry) != null) {
                throw new ApiException(409, "snapshot " + snapshotId + " is damaged (" + SnapshotCatalog.damage(entry)
                        + "); restore another snapshot or a point in time after the next one");
            }
            return new JsonObject()
                    .put("kind", "snapshot")
                    .put("snapshotId", snapshotId)
                    .put("ts", SnapshotCatalog.ts(entry).toJson())
                    .put("logicalBytes", entry.getLong("logicalBytes"));
        });
    }

    private Future<JsonObject> pointInTimeTarget(String jobId, RestoreRequest request, Context context) {
        if (pointInTime == null) {
            return Future.failedFuture(new ApiException(501, "point-in-time restores are not available on this server;"
                    + " restore a snapshot instead (\"snapshot\": id)"));
        }
        Future<OpTime> target = request.atTs() != null ? Future.succeededFuture(request.atTs())
                : future(pointInTime.positionAt(jobId, request.at()), context);
        return target.compose(ts -> future(pointInTime.window(jobId), context).map(window -> {
            if (!window.contains(ts)) {
                throw new ApiException(422, (request.at() != null ? request.at() + " (" + ts + ")" : ts.toString())
                        + " is outside job " + jobId + "'s point-in-time window, " + window.describe(),
                        new JsonObject().put("window", window.toJson()));
            }
            JsonObject out = new JsonObject().put("kind", "pit").put("ts", ts.toJson());
            if (request.at() != null) {
                out.put("at", request.at().toString());
            }
            return out;
        }));
    }

    private Future<Download> open(JsonObject record, Context context) {
        long start = System.nanoTime();
        String id = record.getString("_id");
        return future(openSource(record), context)
                .map(s -> new Download(record, s, archive(record, s), filename(record), start))
                .recover(e -> records.transition(id, RestoreState.STREAMING, RestoreState.FAILED, new JsonObject()
                                .put("bytes", 0L).put("finishedAt", clock.millis()).put("error", describe(e)))
                        .transform(ar -> {
                            metrics.failed(record.getString("job"));
                            return Future.failedFuture(e);
                        }));
    }

    private Mono<RestoreSource> openSource(JsonObject record) {
        if ("snapshot".equals(record.getString("kind"))) {
            return SnapshotRestoreSource.open(manifests, blocks, record.getString("snapshotId")).cast(RestoreSource.class);
        }
        if (pointInTime == null) {
            return Mono.error(new ApiException(501, "point-in-time restores are not available on this server"));
        }
        return pointInTime.open(record.getString("job"), OpTime.fromJson(record.getJsonObject("ts")));
    }

    private Flux<ByteBuffer> archive(JsonObject record, RestoreSource source) {
        var sent = metrics.bytes(record.getString("job"));
        return ArchiveStream.of(source, record.getBoolean("gzip", false), cpu)
                .doOnNext(b -> sent.increment(b.remaining()))
                // a point-in-time source deletes its temporary head on close: never on an event loop
                .doFinally(signal -> Schedulers.boundedElastic().schedule(() -> closeQuietly(source, record)));
    }

    private Future<Download> explainUnusable(String hash, long now) {
        return records.findByTokenHash(hash).compose(record -> {
            if (record == null) {
                return Future.failedFuture(unknownLink());
            }
            String id = record.getString("_id");
            RestoreState state = RestoreState.valueOf(record.getString("state"));
            String expiredAt = Instant.ofEpochMilli(record.getLong("expiresAt")).toString();
            ApiException expired = new ApiException(410, "the download link of restore " + id + " expired at " + expiredAt
                    + "; create a new restore to get a new link");
            if (state == RestoreState.READY) {
                // unused but out of time: record it, so that the status says so too
                return records.transition(id, RestoreState.READY, RestoreState.EXPIRED, new JsonObject())
                        .transform(ar -> Future.failedFuture(expired));
            }
            if (state == RestoreState.EXPIRED) {
                return Future.failedFuture(expired);
            }
            return Future.failedFuture(new ApiException(410, "the download link of restore " + id + " was already used"
                    + " (the restore is " + state + "); a link works once: create a new restore to download again"));
        });
    }

    /** Back on the caller's context when there is one (there is none in plain tests). */
    private static <T> Future<T> future(Mono<T> mono, Context context) {
        return context != null ? Futures.of(mono, context) : Future.fromCompletionStage(mono.toFuture());
    }

    private static ApiException unknownLink() {
        return new ApiException(404, "unknown download link; links are shown once, when the restore is created"
                + " (POST /api/v1/jobs/{job}/restores)");
    }

    /** A restore as the API and CLI show it; never the token or its hash. */
    static JsonObject view(JsonObject r, long now) {
        RestoreState state = RestoreState.valueOf(r.getString("state"));
        Long expiresAt = r.getLong("expiresAt");
        if (state == RestoreState.READY && expiresAt != null && expiresAt <= now) {
            state = RestoreState.EXPIRED;
        }
        JsonObject out = new JsonObject()
                .put("id", r.getString("_id"))
                .put("job", r.getString("job"))
                .put("kind", r.getString("kind"));
        copy(r, out, "snapshotId", "at", "ts");
        if ("push".equals(r.getString("delivery"))) {
            copy(r, out, "target", "drop", "documents", "summary");
        }
        out.put("gzip", r.getBoolean("gzip", false))
                .put("delivery", r.getString("delivery"))
                .put("state", state.name())
                .put("createdAt", iso(r.getLong("createdAt")));
        if (expiresAt != null) {
            out.put("expiresAt", iso(expiresAt));
        }
        if (r.getLong("startedAt") != null) {
            out.put("startedAt", iso(r.getLong("startedAt")));
        }
        if (r.getLong("finishedAt") != null) {
            out.put("finishedAt", iso(r.getLong("finishedAt")));
        }
        copy(r, out, "logicalBytes", "bytes", "error");
        if ("download".equals(r.getString("delivery"))) {
            out.put("filename", filename(r));
        }
        return out;
    }

    /** {@code <job>-<T>-<I>.archive[.gz]}: the job id is a slug and a colon is no file name character everywhere. */
    static String filename(JsonObject r) {
        OpTime ts = OpTime.fromJson(r.getJsonObject("ts"));
        return r.getString("job") + "-" + ts.seconds() + "-" + ts.increment() + ".archive"
                + (r.getBoolean("gzip", false) ? ".gz" : "");
    }

    private static void copy(JsonObject from, JsonObject to, String... keys) {
        for (String k : keys) {
            if (from.getValue(k) != null) {
                to.put(k, from.getValue(k));
            }
        }
    }

    private static String iso(Long millis) {
        return millis == null ? null : Instant.ofEpochMilli(millis).toString();
    }

    private static String describe(Throwable e) {
        if (e instanceof ResponseStreamer.ClientGoneException) {
            return "download interrupted: " + e.getMessage();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static void closeQuietly(RestoreSource source, JsonObject record) {
        try {
            source.close();
        } catch (RuntimeException e) {
            LOG.warn("restore {}: closing its source: {}", record.getString("_id"), e.toString());
        }
    }
}
