package io.tidemark.snapshotter;

import io.tidemark.shared.daemons.SweepLocks;
import io.tidemark.applier.HeadReader;
import io.tidemark.applier.HeadRegistry;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.storage.StorageHealth;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.daemons.JobAddresses;
import io.tidemark.shared.daemons.JobFence;
import io.tidemark.shared.daemons.JobOwners;
import io.tidemark.shared.jobs.UnknownJobException;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.RetentionPolicies;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Futures;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Takes snapshots of the heads this process holds: on each job's schedule (its retention
 * policy's {@code snapshotIntervalHours} when it has a policy of its own, else
 * {@code snapshots.intervalMinutes}) of each head whose position moved since its last complete
 * snapshot, and on request through
 * {@value Addresses#SNAPSHOT_REQUEST}. At most one snapshot per job runs at a time; a request
 * for a job that is being snapshotted joins the running snapshot.
 *
 * <p>Everything here runs on the verticle's event loop except the snapshot itself, which
 * runs on this verticle's own schedulers: a parallel one sized to the cores for hashing and
 * compression and a bounded elastic one for RocksDB and file I/O.
 *
 * <p>Request {@code {"job": id, "wait": bool, "force": bool}}; the reply is
 * {@code {"snapshotId", "status"}} with status {@code running} (immediately), {@code complete}
 * (with {@code wait}, with the totals) or {@code unchanged} (the head has not moved since
 * snapshot {@code snapshotId}; never with {@code force}, which takes a full snapshot anyway).
 * Failures reply with code 404 (unknown job), 409 (no head yet, or a forced request while a
 * snapshot runs) or 500.
 */
public final class SnapshotterVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotterVerticle.class);

    private final TidemarkConfig config;
    private final Stores stores;
    private final HeadRegistry heads;
    private final BlockStore blocks;
    private final SnapshotCatalog catalog;
    private final RetentionPolicies policies;
    private final SnapshotMetrics metrics = new SnapshotMetrics(Metrics.registry());
    /** Per job, the snapshot under way; touched only on this verticle's event loop. */
    private final Map<String, Running> running = new HashMap<>();

    private Scheduler cpu;
    private Scheduler io;
    private SnapshotTaker taker;
    private MessageConsumer<JsonObject> consumer;
    /** At this daemon's own address, where front ends send the requests of the jobs it holds; null for a sole writer. */
    private MessageConsumer<JsonObject> ownConsumer;
    private MessageConsumer<JsonObject> movedConsumer;
    private MessageConsumer<JsonObject> openedConsumer;
    private SweepLocks sweepLocks;
    private long timer = -1;
    private boolean scheduledPassUnderWay;

    private record Running(String snapshotId, Future<Void> begun, Future<SnapshotSummary> done, Disposable subscription) {
    }

    private final JobFence fence;

    /** A sole writer's snapshotter: every job's snapshots are taken here (tests that wire it alone). */
    public SnapshotterVerticle(TidemarkConfig config, Stores stores, HeadRegistry heads, BlockStore blocks) {
        this(config, stores, heads, blocks, JobFence.soleWriter(stores.jobs()));
    }

    /** @param fence the jobs this daemon holds: only theirs are snapshotted, every catalog write checked */
    public SnapshotterVerticle(TidemarkConfig config, Stores stores, HeadRegistry heads, BlockStore blocks, JobFence fence) {
        this.fence = Objects.requireNonNull(fence, "fence");
        this.config = Objects.requireNonNull(config, "config");
        this.stores = Objects.requireNonNull(stores, "stores");
        this.heads = Objects.requireNonNull(heads, "heads");
        this.blocks = Objects.requireNonNull(blocks, "blocks");
        this.catalog = new SnapshotCatalog(stores.metadata());
        this.policies = new RetentionPolicies(stores.metadata());
    }

    @Override
    public Future<?> start() {
        int cores = Runtime.getRuntime().availableProcessors();
        cpu = Schedulers.newParallel("tidemark-snapshot-cpu", cores, true);
        io = Schedulers.newBoundedElastic(4 * cores, 10_000, "tidemark-snapshot-io", 60, true);
        taker = new SnapshotTaker(blocks, new ManifestStore(stores.blockstore().database()), catalog, cpu, io,
                BlockWriter.Options.of(config.snapshots()), DeltaPolicy.of(config.snapshots())).fencedBy(fence);
        // Other daemons' block sweeps stay away from blocks this daemon's snapshots find (SweepLocks).
        sweepLocks = SweepLocks.of(vertx, stores.metadata(), fence, config.daemons().leaseSeconds() * 1000L);
        taker.sweepLockedBy(sweepLocks);
        consumer = vertx.eventBus().consumer(Addresses.SNAPSHOT_REQUEST, this::onRequest);
        ownConsumer = fence.daemon() == null ? null
                : vertx.eventBus().consumer(JobAddresses.ofDaemon(Addresses.SNAPSHOT_REQUEST, fence.daemon()), this::onRequest);
        timer = vertx.setPeriodic(tickMillis(), id -> scheduledPass());
        // A job that moved here, failed over or whose daemon restarted missed its schedule meanwhile:
        // the snapshot that fell due then is taken as soon as its head runs here.
        // (A job's first snapshot keeps waiting for the schedule's tick, as on a fresh start.)
        movedConsumer = vertx.eventBus().<JsonObject>consumer(Addresses.JOB_MOVED, m -> snapshotIfDueNow(m, true));
        openedConsumer = vertx.eventBus().<JsonObject>consumer(Addresses.HEAD_OPENED, m -> snapshotIfDueNow(m, false));
        return catalog.createIndexes().compose(v -> consumer.completion())
                .compose(v -> ownConsumer == null ? Future.succeededFuture() : ownConsumer.completion());
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        if (sweepLocks != null) {
            sweepLocks.close();
        }
        // A cancelled snapshot stays incomplete and invisible, as after a crash.
        running.values().forEach(r -> r.subscription().dispose());
        running.clear();
        movedConsumer.unregister();
        openedConsumer.unregister();
        return Future.all(consumer.unregister(), ownConsumer == null ? Future.succeededFuture() : ownConsumer.unregister()).onComplete(ar -> {
            cpu.dispose();
            io.dispose();
        });
    }

    private void onRequest(Message<JsonObject> msg) {
        JsonObject body = msg.body() == null ? new JsonObject() : msg.body();
        String job = body.getString("job");
        boolean wait = body.getBoolean("wait", false);
        boolean force = body.getBoolean("force", false);
        if (job == null || job.isBlank()) {
            msg.fail(400, "'job' is required");
            return;
        }
        request(job, wait, force).onSuccess(msg::reply).onFailure(e -> {
            int code = e instanceof ApiException a ? a.status()
                    : e instanceof UnknownJobException ? 404
                    : e instanceof NoHeadException || e instanceof SnapshotRunningException ? 409 : 500;
            msg.fail(code, String.valueOf(e.getMessage()));
        });
    }

    /**
     * Starts (or joins) a snapshot of {@code job} (an id or a deployment name). With
     * {@code force}, a full snapshot even when the head has not moved (see
     * {@link SnapshotTaker#take(String, Head, String, boolean, Runnable)}); it does not join a
     * running snapshot, which may trust blocks a forced one must not.
     */
    Future<JsonObject> request(String jobIdOrName, boolean wait, boolean force) {
        return stores.jobs().resolve(jobIdOrName).compose(jobDoc -> {
            String job = jobDoc.getString("_id");
            if (!fence.runs(job)) {
                throw JobOwners.notHere(jobDoc, "a snapshot");
            }
            if (fence.moving(job)) {
                throw JobOwners.moving(jobDoc, "a snapshot");
            }
            Running current = running.get(job);
            if (current != null) {
                if (force) {
                    throw new SnapshotRunningException(job, current.snapshotId());
                }
                return reply(current, wait);
            }
            return headOf(job).compose(head -> {
                if (head.isEmpty()) {
                    throw new NoHeadException(job);
                }
                return catalog.latestComplete(job).compose(latest -> {
                    Running again = running.get(job);
                    if (again != null) {
                        if (force) {
                            throw new SnapshotRunningException(job, again.snapshotId());
                        }
                        return reply(again, wait);
                    }
                    if (!force && latest != null && SnapshotCatalog.ts(latest).equals(position(head.get()))) {
                        return Future.succeededFuture(SnapshotCatalog.view(latest)
                                .put("snapshotId", latest.getString("_id")).put("status", "unchanged"));
                    }
                    // Not a new snapshot onto a disk that is full or nearly so (docs/operations.md, "Full disks").
                    java.util.Optional<String> refused = StorageHealth.refusal(vertx,
                            "job " + job + ": a new snapshot");
                    if (refused.isPresent()) {
                        throw new ApiException(503, "no new snapshot starts now: " + refused.get());
                    }
                    // Marked as running for the job's moves: a move waits until it ends, and none starts while one moves.
                    Runnable exit = fence.enter(job);
                    if (exit == null) {
                        throw JobOwners.moving(jobDoc, "a snapshot");
                    }
                    Running r = start(job, head.get(), force);
                    r.done().onComplete(ar -> exit.run());
                    return reply(r, wait);
                });
            });
        });
    }

    private Future<JsonObject> reply(Running r, boolean wait) {
        if (!wait) {
            // Announced only once its catalog entry exists, so a lookup by the id never misses it.
            return r.begun().map(v -> new JsonObject().put("snapshotId", r.snapshotId()).put("status", "running"));
        }
        return r.done().map(s -> s.toJson().put("status", "complete"));
    }

    private Running start(String job, HeadReader head, boolean full) {
        String snapshotId = SnapshotTaker.newSnapshotId();
        Promise<SnapshotSummary> promise = Promise.promise();
        Promise<Void> begun = Promise.promise();
        LOG.info("job {}: {}snapshot {} started at {}", job, full ? "full " : "", snapshotId, position(head));
        Disposable subscription = taker.take(job, head, snapshotId, full, () -> context.runOnContext(v -> begun.tryComplete()))
                .subscribe(s -> context.runOnContext(v -> promise.tryComplete(s)),
                        e -> context.runOnContext(v -> {
                            begun.tryFail(e);
                            promise.tryFail(e);
                        }));
        Running r = new Running(snapshotId, begun.future(), promise.future(), subscription);
        running.put(job, r);
        promise.future().onComplete(ar -> {
            running.remove(job, r);
            if (ar.succeeded()) {
                SnapshotSummary s = ar.result();
                metrics.completed(job, s);
                LOG.info("job {}: snapshot {} complete at {}: {} documents, {} logical bytes, {} new stored bytes in {}s",
                        job, snapshotId, s.ts(), s.documents(), s.logicalBytes(), s.storedBytes(),
                        s.duration().toMillis() / 1000.0);
                vertx.eventBus().publish(Addresses.SNAPSHOT_COMPLETED, s.toJson());
            } else {
                metrics.failed(job);
                LOG.warn("job {}: snapshot {} failed: {}", job, snapshotId, ar.cause().toString());
                vertx.eventBus().publish(Addresses.SNAPSHOT_FAILED, new JsonObject().put("job", job)
                        .put("snapshotId", snapshotId).put("error", String.valueOf(ar.cause().getMessage())));
            }
        });
        return r;
    }

    private void snapshotIfDueNow(Message<JsonObject> m, boolean firstToo) {
        String job = m.body().getString("job");
        if (job != null && fence.runs(job) && !fence.moving(job)) {
            snapshotIfDue(job, firstToo).onFailure(e -> LOG.warn("job {}: the snapshot that fell due: {}", job, e.getMessage()));
        }
    }

    /**
     * How often the schedule is looked at: the configured interval, but at least every five
     * minutes, because a job's policy may ask for another interval than the configuration.
     */
    private long tickMillis() {
        return Math.min(Math.max(1, config.snapshots().intervalMinutes()), 5) * 60_000L;
    }

    /**
     * One pass over the jobs: snapshots, one after another, those that are due (see
     * {@link #snapshotIfDue}) and whose head moved since their last complete snapshot. One at a
     * time so that a schedule firing for many jobs does not make them compete for the same cores.
     */
    private void scheduledPass() {
        if (scheduledPassUnderWay) {
            return;
        }
        scheduledPassUnderWay = true;
        stores.jobs().list()
                .compose(jobs -> {
                    Future<Void> chain = Future.succeededFuture();
                    for (JsonObject j : jobs) {
                        String job = j.getString("_id");
                        if (!fence.runs(job) || fence.moving(job)) {
                            continue; // a moving job's missed snapshot is taken when its move completes
                        }
                        chain = chain.compose(v -> snapshotIfDue(job).otherwiseEmpty());
                    }
                    return chain;
                })
                .onComplete(ar -> {
                    scheduledPassUnderWay = false;
                    if (ar.failed()) {
                        LOG.warn("scheduled snapshot pass failed: {}", ar.cause().toString());
                    }
                });
    }

    /**
     * A job is due when its newest complete snapshot is at least one interval old (its policy's,
     * or the configured one), less half a tick so that a schedule does not slip a whole tick
     * each time; a job without a snapshot is due at once.
     */
    private Future<Void> snapshotIfDue(String job) {
        return snapshotIfDue(job, true);
    }

    /** The same; without {@code firstToo}, a job with no snapshot yet is not due. */
    private Future<Void> snapshotIfDue(String job, boolean firstToo) {
        if (running.containsKey(job)) {
            return Future.succeededFuture();
        }
        return policies.stored(job).compose(policy -> catalog.latestComplete(job).compose(latest -> {
            long intervalMs = policy != null ? policy.snapshotIntervalHours() * 3_600_000L
                    : Math.max(1, config.snapshots().intervalMinutes()) * 60_000L;
            boolean due = latest == null ? firstToo
                    : System.currentTimeMillis() - latest.getLong("createdAt") >= intervalMs - tickMillis() / 2;
            return due ? snapshotIfMoved(job) : Future.succeededFuture();
        }));
    }

    private Future<Void> snapshotIfMoved(String job) {
        if (running.containsKey(job)) {
            return Future.succeededFuture();
        }
        return headOf(job).compose(head -> head.isEmpty() ? Future.succeededFuture()
                : request(job, true, false).onFailure(e -> LOG.warn("job {}: scheduled snapshot: {}", job, e.getMessage()))
                        .mapEmpty());
    }

    /** The registry touches RocksDB-backed state, so it is asked on a worker thread. */
    private Future<Optional<HeadReader>> headOf(String job) {
        return Futures.of(reactor.core.publisher.Mono.fromCallable(() -> heads.head(job).<HeadReader>map(h -> h)).subscribeOn(io), context);
    }

    private static OpTime position(HeadReader head) {
        return head.appliedPosition();
    }

    /** The job exists but its head is not built yet (initial sync still loading). */
    static final class NoHeadException extends RuntimeException {
        NoHeadException(String job) {
            super("job " + job + " has no head yet (its initial sync has not finished)");
        }
    }

    /** A forced snapshot asked for while another snapshot of the job runs. */
    static final class SnapshotRunningException extends RuntimeException {
        SnapshotRunningException(String job, String snapshotId) {
            super("snapshot " + snapshotId + " of job " + job + " is running; ask again with force once it is done");
        }
    }
}
