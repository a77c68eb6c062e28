package io.tidemark.groomer;

import io.tidemark.shared.daemons.SweepLocks;
import io.tidemark.shared.daemons.JobAddresses;
import io.tidemark.shared.daemons.JobFence;
import io.tidemark.shared.daemons.JobOwners;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.jobs.UnknownJobException;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs grooms: every {@code groom.intervalMinutes} for every job (retention and oplog trimming,
 * plus a block sweep when the unreferenced share reaches {@code groom.unreferencedShareThreshold}),
 * and on request through {@value Addresses#GROOM_REQUEST} ({@code {"job", "dryRun"}}; always
 * sweeps; the reply is the report). Checks ({@value Addresses#GROOM_CHECK}, {@code {"job",
 * "readData"}}) run here too.
 *
 * <p>All of it runs on one thread of its own, so grooms and checks run one at a time per process
 * (a request waits for the one before it) and none runs on an event loop; ingest, oplog
 * application and snapshots go on meanwhile (see {@link BlockFence} for why snapshots may). The
 * verticle's event loop only receives requests, replies and publishes
 * {@value Addresses#GROOM_COMPLETED}.
 *
 * <p>Replies fail with 404 (unknown job), 400 (bad request) or 500.
 */
public final class GroomerVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(GroomerVerticle.class);

    private final TidemarkConfig config;
    private final Stores stores;
    private final FencedBlockStore blocks;
    private final Clock clock;
    private final GroomMetrics metrics = new GroomMetrics(Metrics.registry());
    private final AtomicBoolean passUnderWay = new AtomicBoolean();
    private final JobFence fence;

    private ExecutorService worker;
    private Groomer groomer;
    private SweepLocks sweepLocks;
    private SnapshotChecker checker;
    private MessageConsumer<JsonObject> groomConsumer;
    /** At this daemon's own address, where front ends send the grooms of the jobs it holds; null for a sole writer. */
    private MessageConsumer<JsonObject> ownGroomConsumer;
    private MessageConsumer<JsonObject> checkConsumer;
    private long timer = -1;

    /**
     * @param blocks the process's block store, wrapped in a {@link FencedBlockStore} that the
     *     snapshotter writes through too: without that fence a sweep could delete a block a
     *     running snapshot has just found, so anything else is refused
     */
    public GroomerVerticle(TidemarkConfig config, Stores stores, BlockStore blocks, Clock clock) {
        this(config, stores, blocks, clock, JobFence.soleWriter(stores.jobs()));
    }

    /** @param fence the jobs this daemon holds: only they are groomed here, every deletion admitted */
    public GroomerVerticle(TidemarkConfig config, Stores stores, BlockStore blocks, Clock clock, JobFence fence) {
        this.fence = Objects.requireNonNull(fence, "fence");
        this.config = Objects.requireNonNull(config, "config");
        this.stores = Objects.requireNonNull(stores, "stores");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (!(blocks instanceof FencedBlockStore fenced)) {
            throw new IllegalArgumentException("the groomer needs the FencedBlockStore the snapshotter writes through "
                    + "(wrap the block store once with FencedBlockStore.wrap and give that instance to both)");
        }
        this.blocks = fenced;
    }

    @Override
    public Future<?> start() {
        worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tidemark-groomer");
            t.setDaemon(true);
            return t;
        });
        groomer = new Groomer(config, stores, blocks, clock, fence);
        // Sweeps keep away from blocks other daemons' running snapshots may have found (SweepLocks).
        sweepLocks = SweepLocks.of(vertx, stores.metadata(), fence, config.daemons().leaseSeconds() * 1000L);
        groomer.sweepLockedBy(sweepLocks);
        checker = new SnapshotChecker(blocks, new ManifestStore(stores.blockstore().database()),
                new CatalogEntries(stores.metadata()));
        groomConsumer = vertx.eventBus().consumer(Addresses.GROOM_REQUEST, this::onGroom);
        ownGroomConsumer = fence.daemon() == null ? null
                : vertx.eventBus().consumer(JobAddresses.ofDaemon(Addresses.GROOM_REQUEST, fence.daemon()), this::onGroom);
        // A check only reads the catalog and the blocks: any daemon serves it, the job's owner or not.
        checkConsumer = vertx.eventBus().consumer(Addresses.GROOM_CHECK, this::onCheck);
        timer = vertx.setPeriodic(config.groom().intervalMinutes() * 60_000L, id -> scheduledPass());
        return Future.all(groomConsumer.completion(), checkConsumer.completion(),
                ownGroomConsumer == null ? Future.succeededFuture() : ownGroomConsumer.completion());
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        // A groom cut off here leaves what the next one finishes (see SnapshotExpirer, BlockCollector).
        worker.shutdownNow();
        if (sweepLocks != null) {
            sweepLocks.close();
        }
        return Future.all(groomConsumer.unregister(), checkConsumer.unregister(),
                ownGroomConsumer == null ? Future.succeededFuture() : ownGroomConsumer.unregister());
    }

    private void onGroom(Message<JsonObject> msg) {
        JsonObject body = msg.body() == null ? new JsonObject() : msg.body();
        String job = body.getString("job");
        Object dry = body.getValue("dryRun", false);
        if (job == null || job.isBlank() || !(dry instanceof Boolean dryRun)) {
            msg.fail(400, "'job' is required and 'dryRun' must be true or false");
            return;
        }
        stores.jobs().resolve(job)
                .compose(doc -> fence.runs(doc.getString("_id"))
                        ? groomHeld(doc, dryRun, Groomer.Sweep.ALWAYS)
                        : Future.<GroomReport>failedFuture(JobOwners.notHere(doc, "a groom")))
                .onSuccess(report -> {
                    completed(report);
                    msg.reply(report.toJson());
                })
                .onFailure(e -> fail(msg, e));
    }

    private void onCheck(Message<JsonObject> msg) {
        JsonObject body = msg.body() == null ? new JsonObject() : msg.body();
        String job = body.getString("job");
        Object read = body.getValue("readData", false);
        if (job == null || job.isBlank() || !(read instanceof Boolean readData)) {
            msg.fail(400, "'job' is required and 'readData' must be true or false");
            return;
        }
        stores.jobs().resolve(job)
                .compose(doc -> onWorker(() -> checker.check(doc.getString("_id"), readData)))
                .onSuccess(report -> msg.reply(report.toJson()))
                .onFailure(e -> fail(msg, e));
    }

    /** Every job in turn, sweeping only past the threshold; skipped while the previous pass runs. */
    private void scheduledPass() {
        if (!passUnderWay.compareAndSet(false, true)) {
            return;
        }
        stores.jobs().list()
                .compose(jobs -> {
                    Future<Void> chain = Future.succeededFuture();
                    for (JsonObject j : jobs) {
                        String job = j.getString("_id");
                        if (!fence.runs(job) || fence.moving(job)) {
                            continue;
                        }
                        chain = chain.compose(v -> groomHeld(j, false, Groomer.Sweep.IF_THRESHOLD)
                                .onSuccess(this::completed)
                                .onFailure(e -> LOG.warn("job {}: scheduled groom failed: {}", job, e.toString()))
                                .otherwiseEmpty().mapEmpty());
                    }
                    return chain;
                })
                .onComplete(ar -> {
                    passUnderWay.set(false);
                    if (ar.failed()) {
                        LOG.warn("scheduled groom pass failed: {}", ar.cause().toString());
                    }
                });
    }

    private void completed(GroomReport report) {
        metrics.groomed(report);
        vertx.eventBus().publish(Addresses.GROOM_COMPLETED, report.toEvent());
    }

    /** Runs {@code work} on the groomer's thread; the result comes back on this verticle's context. */
    /**
     * Grooms a job this daemon runs, marked as running for the job's moves: a move waits until the
     * groom ends, and no groom starts while the job moves (the head being rebuilt elsewhere reads
     * the snapshot and the oplog this would trim).
     */
    private Future<GroomReport> groomHeld(JsonObject doc, boolean dryRun, Groomer.Sweep sweep) {
        Runnable exit = fence.enter(doc.getString("_id"));
        if (exit == null) {
            return Future.failedFuture(JobOwners.moving(doc, "a groom"));
        }
        return this.<GroomReport>onWorker(() -> groomer.groom(doc.getString("_id"), dryRun, sweep)).onComplete(ar -> exit.run());
    }

    private <T> Future<T> onWorker(Supplier<T> work) {
        CompletableFuture<T> result;
        try {
            result = CompletableFuture.supplyAsync(work, worker);
        } catch (RejectedExecutionException e) {
            return Future.failedFuture(new IllegalStateException("the groomer is stopping"));
        }
        return Future.fromCompletionStage(result, context);
    }

    private static void fail(Message<JsonObject> msg, Throwable e) {
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        // Only deliberate refusals are client errors; anything else is the groomer's own failure.
        int code = cause instanceof UnknownJobException ? 404 : cause instanceof io.tidemark.shared.http.ApiException a ? a.status() : 500;
        if (code == 500) {
            LOG.warn("groomer request failed", cause);
        }
        msg.fail(code, String.valueOf(cause.getMessage()));
    }
}
