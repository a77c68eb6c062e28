package io.tidemark.restore.rebuild;

import io.tidemark.applier.HeadRegistry;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.daemons.JobBindings;
import io.tidemark.shared.daemons.JobFence;
import io.tidemark.shared.daemons.JobMoves;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Directories;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The destination's side of moving a job here ({@link JobMoves}): once the owner acknowledged the
 * move, rebuilds the job's head beside the heads ({@code <job>.arriving}) from its latest complete
 * snapshot and the oplog store, catching up close to the stored tip while the owner keeps
 * applying; says {@code ready}; and once the owner handed the binding over and this daemon's
 * applier opened the head, completes the move. One arrival at a time: a drain of a whole daemon
 * does not load every head at once.
 *
 * <p>The applier builds the head of a job it now holds through {@link #rebuildOrArrive}, which
 * takes the prepared head when there is one for the job and the job's latest snapshot is still
 * the one it was rebuilt from (a newer snapshot's change tracking would not match it), and
 * otherwise rebuilds.
 */
public final class MoveArrivals extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(MoveArrivals.class);
    private static final String ARRIVING = ".arriving";
    private static final long TICK_MILLIS = 2_000;
    /** How often a running arrival writes its progress into the job's move. */
    private static final long PROGRESS_MILLIS = 1_000;

    private final Path heads;
    private final Stores stores;
    private final HeadRebuilds rebuilds;
    private final JobFence fence;
    private final HeadRegistry applier;
    private final SnapshotCatalog catalog;
    private JobMoves moves;
    /** Heads rebuilt and caught up for a move, waiting for the handover; by job. */
    private final Map<String, Prepared> prepared = new ConcurrentHashMap<>();
    private final MoveMetrics metrics = new MoveMetrics(io.tidemark.shared.metrics.Metrics.registry());
    /** The arrival under way; event loop only. */
    private Arrival current;
    private long timer = -1;
    private boolean ticking;

    private record Prepared(String moveId, RebuildResult result) {
    }

    private record Arrival(JobMoves.Move move, Disposable rebuild, AtomicLong loaded, AtomicLong replayed, long progressTimer) {
    }

    public MoveArrivals(Path heads, Stores stores, HeadRebuilds rebuilds, JobFence fence, HeadRegistry applier) {
        this.heads = heads;
        this.stores = stores;
        this.rebuilds = rebuilds;
        this.fence = fence;
        this.applier = applier;
        this.catalog = new SnapshotCatalog(stores.metadata());
    }

    @Override
    public Future<?> start() {
        moves = new JobMoves(stores.metadata(), vertx.eventBus());
        // What an earlier run of this daemon left half arrived is not trusted: its moves start over.
        return vertx.executeBlocking(() -> {
            if (Files.isDirectory(heads)) {
                try (Stream<Path> dirs = Files.list(heads)) {
                    for (Path d : dirs.filter(p -> p.getFileName().toString().contains(ARRIVING)).toList()) {
                        Directories.deleteTree(d);
                        LOG.info("removed {}, left by an earlier run's move", d);
                    }
                }
            }
            return null;
        }).onSuccess(v -> timer = vertx.setPeriodic(TICK_MILLIS, t -> tick()));
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        if (current != null) {
            cancel("this daemon is stopping");
        }
        return Future.succeededFuture();
    }

    /**
     * For the applier ({@code HeadRebuilder}): the head of a job this daemon now holds, from its
     * move's prepared head when it is still good, else rebuilt from the latest snapshot.
     */
    public Mono<?> rebuildOrArrive(String job, Path dir) {
        return Mono.defer(() -> {
            Prepared p = prepared.remove(job);
            if (p == null) {
                return rebuilds.rebuild(job, dir);
            }
            Path arriving = arriving(job);
            return Mono.fromCompletionStage(() -> catalog.latestComplete(job).toCompletionStage())
                    .map(latest -> latest.getString("_id"))
                    .defaultIfEmpty("")
                    .flatMap(latestId -> {
                        if (!latestId.equals(p.result().snapshotId())) {
                            LOG.info("job {}: the head prepared by move {} was rebuilt from snapshot {}, but {} is the latest now;"
                                    + " rebuilding", job, p.moveId(), p.result().snapshotId(), latestId);
                            return discard(arriving).then(rebuilds.rebuild(job, dir));
                        }
                        return HeadRebuilds.moveIntoPlace(arriving, dir).then(Mono.fromCallable(() -> {
                            LOG.info("job {}: the head prepared by move {} is in place at {} (rebuilt from snapshot {}, at {})",
                                    job, p.moveId(), dir, p.result().snapshotId(), p.result().reached());
                            return p.result();
                        }));
                    });
        });
    }

    private void tick() {
        if (ticking || fence.daemon() == null) {
            return;
        }
        ticking = true;
        stores.jobs().list().onComplete(ar -> ticking = false).onSuccess(this::step)
                .onFailure(e -> LOG.warn("moves: cannot list jobs: {}", e.getMessage()));
    }

    private void step(List<JsonObject> jobs) {
        String me = fence.daemon();
        Map<String, JobMoves.Move> mine = new java.util.HashMap<>();
        for (JsonObject doc : jobs) {
            JobMoves.Move m = JobMoves.Move.of(doc);
            if (m != null && me.equals(m.to())) {
                mine.put(m.job(), m);
                JobBindings.Binding b = JobBindings.Binding.of(doc);
                boolean holds = b != null && me.equals(b.daemon()) && fence.runs(m.job());
                if (JobMoves.HANDED_OVER.equals(m.state()) && holds && applier.head(m.job()).isPresent()) {
                    complete(m, b.epoch());
                } else if (JobMoves.HANDED_OVER.equals(m.state()) && holds && JobState.FAILED == JobStore.state(doc)) {
                    moves.fail(m, "daemon " + me + " took the job over but could not run its head: " + doc.getString("error"));
                }
                Prepared p = prepared.get(m.job());
                if (JobMoves.REBUILDING.equals(m.state()) && p != null && p.moveId().equals(m.id())) {
                    // Its head is ready here but saying so did not land (a store error): say it again.
                    announce(m, p.result());
                }
            }
        }
        if (current != null) {
            JobMoves.Move now = mine.get(current.move().job());
            if (now == null || !now.id().equals(current.move().id()) || !JobMoves.REBUILDING.equals(now.state())) {
                cancel("the move is no longer waiting for this daemon's head (it failed or was replaced)");
            }
        }
        prepared.forEach((job, p) -> {
            JobMoves.Move now = mine.get(job);
            if ((now == null || !now.id().equals(p.moveId())) && prepared.remove(job, p)) {
                LOG.info("job {}: move {} ended without this daemon; its prepared head is removed", job, p.moveId());
                discard(arriving(job)).subscribe();
            }
        });
        if (current == null) {
            mine.values().stream().filter(m -> JobMoves.REBUILDING.equals(m.state()) && !prepared.containsKey(m.job()))
                    .min(java.util.Comparator.comparing(m -> m.doc().getLong("requestedAt", 0L)))
                    .ifPresent(this::begin);
        }
    }

    private void begin(JobMoves.Move m) {
        String job = m.job();
        AtomicLong loaded = new AtomicLong();
        AtomicLong replayed = new AtomicLong();
        LOG.info("job {}: arriving from daemon {} (move {}): rebuilding its head from its latest snapshot and the oplog store",
                job, m.from(), m.id());
        metrics.started(job, loaded, replayed);
        long progressTimer = vertx.setPeriodic(PROGRESS_MILLIS, t -> moves.progress(m, new JsonObject()
                .put("bytesLoaded", loaded.get()).put("entriesCaughtUp", replayed.get())));
        Disposable rebuild = Mono.fromCompletionStage(() -> catalog.latestComplete(job).toCompletionStage())
                .doOnNext(latest -> moves.progress(m, new JsonObject().put("snapshotId", latest.getString("_id"))
                        .put("snapshotBytes", latest.getLong("logicalBytes", 0L))))
                .then(discard(arriving(job)))
                .then(rebuilds.rebuild(job, arriving(job), new RebuildProgress() {
                    @Override
                    public void loaded(long bytes) {
                        loaded.addAndGet(bytes);
                    }

                    @Override
                    public void replayed(long entries) {
                        replayed.addAndGet(entries);
                    }
                }))
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("the rebuild ended without a head")))
                .subscribe(result -> context.runOnContext(v -> arrived(m, result)),
                        e -> context.runOnContext(v -> notArrived(m, e)));
        current = new Arrival(m, rebuild, loaded, replayed, progressTimer);
    }

    private void arrived(JobMoves.Move m, RebuildResult result) {
        end(m);
        prepared.put(m.job(), new Prepared(m.id(), result));
        announce(m, result);
    }

    private void announce(JobMoves.Move m, RebuildResult result) {
        moves.ready(m, new JsonObject().put("snapshotId", result.snapshotId()).put("bytesLoaded", result.bytesLoaded())
                        .put("entriesCaughtUp", result.entriesReplayed()).put("readyTs", result.reached().toJson()))
                .onSuccess(ok -> {
                    if (ok) {
                        LOG.info("job {}: its head is rebuilt here and caught up to {} ({} MB from snapshot {}, {} oplog entries);"
                                        + " waiting for daemon {} to hand it over", m.job(), result.reached(),
                                result.bytesLoaded() / 1_000_000, result.snapshotId(), result.entriesReplayed(), m.from());
                    }
                })
                .onFailure(e -> LOG.warn("job {}: cannot record that its head is ready here (trying again): {}", m.job(), e.getMessage()));
    }

    private void notArrived(JobMoves.Move m, Throwable e) {
        end(m);
        moves.fail(m, "daemon " + m.to() + " could not rebuild the head: " + e.getMessage());
    }

    private void cancel(String why) {
        Arrival a = current;
        LOG.info("job {}: move {} stops here: {}", a.move().job(), a.move().id(), why);
        a.rebuild().dispose();
        end(a.move());
    }

    private void end(JobMoves.Move m) {
        if (current != null && current.move().id().equals(m.id())) {
            vertx.cancelTimer(current.progressTimer());
            current = null;
        }
        metrics.ended(m.job());
    }

    private void complete(JobMoves.Move m, long epoch) {
        moves.complete(m, epoch, new JsonObject()).onSuccess(done -> {
            if (done) {
                long took = System.currentTimeMillis() - m.doc().getLong("requestedAt", System.currentTimeMillis());
                LOG.info("job {}: moved from daemon {} to daemon {} in {} s (epoch {}); its head runs here", m.job(), m.from(),
                        m.to(), took / 1000, epoch);
                vertx.eventBus().publish(Addresses.JOB_MOVED, new JsonObject().put("job", m.job()).put("moveId", m.id())
                        .put("from", m.from()).put("to", m.to()).put("epoch", epoch)
                        .put("snapshotId", m.doc().getString("snapshotId"))
                        .put("bytesLoaded", m.doc().getLong("bytesLoaded", 0L))
                        .put("entriesCaughtUp", m.doc().getLong("entriesCaughtUp", 0L)).put("durationMs", took));
            }
        });
    }

    private Path arriving(String job) {
        return heads.resolve(job + ARRIVING);
    }

    private static Mono<Void> discard(Path dir) {
        return Mono.<Void>fromRunnable(() -> Directories.deleteTree(dir)).subscribeOn(Schedulers.boundedElastic());
    }
}
