package io.tidemark.applier;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.storage.StorageFailure;
import io.tidemark.shared.storage.StorageHealth;
import io.tidemark.shared.util.LogLimiter;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.daemons.JobBindings;
import io.tidemark.shared.daemons.JobFence;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Futures;
import io.tidemark.shared.util.LatestValueWriter;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps a head for every job whose initial sync is complete: builds it, feeds it the oplog store's
 * batches as the ingest service announces them, records the applied position, and fails the job
 * loudly when an entry does not fit the head. Owns the heads; others read them through
 * {@link HeadRegistry}.
 */
public final class ApplierVerticle extends VerticleBase implements HeadRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(ApplierVerticle.class);
    private static final long SCAN_MILLIS = 2_000;

    private final TidemarkConfig config;
    private final Stores stores;
    private final ApplierMetrics metrics = new ApplierMetrics(Metrics.registry());
    /** Runners by job; touched on the event loop only (reads from other threads see a concurrent map). */
    private final Map<String, HeadRunner> runners = new ConcurrentHashMap<>();
    private final Map<String, Long> generations = new HashMap<>();
    private final Map<String, OpTime> storedTips = new ConcurrentHashMap<>();
    private HeadMemory memory;
    private LatestValueWriter<OpTime> appliedTs;
    private LatestValueWriter<Long> headSize;
    private long scanTimer;
    private static final LogLimiter DEFERRED_LOGS = new LogLimiter(java.time.Duration.ofSeconds(30));
    /** Whole-head reads for verify: minutes on a big head, so off the heads' threads and the event loop. */
    private Scheduler verifiers;
    /** A walk of the heads' directories is in progress: the next scan does not start another. */
    private final AtomicBoolean sizing = new AtomicBoolean();
    /** Builds heads from a snapshot and the oplog store when the sync's data is gone; none: sync store only. */
    private HeadRebuilder rebuilder;
    /** Jobs whose next head build is a rebuild, whatever the sync store holds; event loop only. */
    private final java.util.Set<String> rebuildRequested = new java.util.HashSet<>();
    /** Jobs whose old runner is still closing: no new one is launched on its directory meanwhile; event loop only. */
    private final java.util.Set<String> closing = new java.util.HashSet<>();
    /** Jobs whose sync slices are being looked at for removal (see releaseSyncSlices). */
    private final java.util.Set<String> releasing = new java.util.HashSet<>();
    /** Callers of {@link #rebuildHead} waiting for the job's head to open; event loop only. */
    private final Map<String, java.util.List<io.vertx.core.Promise<OpTime>>> rebuildWaiters = new HashMap<>();

    private final JobFence fence;
    private final SnapshotCatalog catalog;

    /** A sole writer's heads: every job runs here (tests that wire the heads alone). */
    public ApplierVerticle(TidemarkConfig config, Stores stores) {
        this(config, stores, JobFence.soleWriter(stores.jobs()));
    }

    /**
     * @param fence which jobs this daemon holds; heads run only for those, and their positions
     *     are recorded only while the binding is still this daemon's at its epoch
     */
    public ApplierVerticle(TidemarkConfig config, Stores stores, JobFence fence) {
        this.config = config;
        this.stores = stores;
        this.fence = fence;
        this.catalog = new SnapshotCatalog(stores.metadata());
    }

    /**
     * Stops the head of a job this daemon lost at once (its binding went to another daemon); the
     * head's directory is deleted when a scan sees the other owner.
     */
    public void release(String job) {
        context.runOnContext(v -> {
            if (runners.containsKey(job)) {
                LOG.info("job {}: its binding is gone from this daemon; its head stops", job);
                retire(job);
            }
        });
    }

    /**
     * Lets this applier build a job's head from its latest complete snapshot and the oplog store
     * ({@link HeadRebuilder}) instead of from the sync store: when the head must be built and the
     * job's initial sync data is gone, and when {@link #rebuildHead} asks. Call before deploying.
     */
    public ApplierVerticle rebuildingWith(HeadRebuilder rebuilder) {
        this.rebuilder = rebuilder;
        return this;
    }

    /**
     * Replaces the job's head here by one rebuilt from its latest complete snapshot and the oplog
     * store, with no new initial sync: closes the head it has (if any), rebuilds, opens the result
     * and goes on applying from its position. For a job that moves to this process, or whose head
     * is lost. Completes with the rebuilt head's position once it is open; fails as the build does.
     */
    public Future<OpTime> rebuildHead(String job) {
        io.vertx.core.Promise<OpTime> opened = io.vertx.core.Promise.promise();
        context.runOnContext(v -> {
            if (rebuilder == null) {
                opened.fail(new IllegalStateException("this applier has no head rebuilder"));
                return;
            }
            rebuildRequested.add(job);
            rebuildWaiters.computeIfAbsent(job, k -> new java.util.ArrayList<>()).add(opened);
            replaceByRebuild(job);
        });
        return opened.future();
    }

    /**
     * Closes the job's runner and lets the next scan launch one that rebuilds. A runner still
     * opening (building) is left to finish: its end comes back here, so two builds never share
     * the head's directory.
     */
    private void replaceByRebuild(String job) {
        HeadRunner old = runners.get(job);
        if (old != null && old.head() == null) {
            return;
        }
        runners.remove(job);
        generations.remove(job);
        if (old == null) {
            scan();
            return;
        }
        closing.add(job);
        vertx.executeBlocking(() -> {
            old.close();
            return null;
        }).onComplete(ar -> {
            closing.remove(job);
            scan();
        });
    }

    private void rebuildDone(String job, OpTime at, Throwable failure) {
        if (rebuildRequested.contains(job)) {
            // Asked again while this build ran: the callers wait for the next one.
            replaceByRebuild(job);
            return;
        }
        java.util.List<io.vertx.core.Promise<OpTime>> waiting = rebuildWaiters.remove(job);
        if (waiting != null) {
            waiting.forEach(p -> {
                if (failure == null) {
                    p.tryComplete(at);
                } else {
                    p.tryFail(failure);
                }
            });
        }
    }

    @Override
    public Future<?> start() {
        memory = HeadMemory.of(config.heads());
        verifiers = Schedulers.newBoundedElastic(2, 16, "tidemark-head-verify");
        metrics.documentCache(memory);
        // Fenced: one conditional update that matches only while this daemon holds the job at its
        // epoch, so a paused ex-owner's position never lands (HeldBindings); a miss stops the head.
        appliedTs = new LatestValueWriter<>("appliedTs", (job, ts) -> fencedSet(job, new JsonObject().put("appliedTs", ts.toJson())));
        headSize = new LatestValueWriter<>("head size", (job, bytes) -> fencedSet(job, new JsonObject().put("head.sizeBytes", bytes)));
        vertx.eventBus().<JsonObject>consumer(Addresses.OPLOG_STORED, m -> {
            String job = m.body().getString("job");
            storedTips.put(job, OpTime.fromJson(m.body().getJsonObject("storedTs")));
            HeadRunner runner = runners.get(job);
            if (runner != null) {
                runner.wake();
            }
        });
        vertx.eventBus().<JsonObject>consumer(Addresses.SYNC_COMPLETED, m -> scan());
        // A first snapshot lets the job's sync slices go (releaseSyncSlices): at once, not at the next scan.
        vertx.eventBus().<JsonObject>consumer(Addresses.SNAPSHOT_COMPLETED, m -> scan());
        if (fence.daemon() != null) {
            // Any front end's verify reaches this daemon's heads (docs/scale-out.md).
            vertx.eventBus().<JsonObject>consumer(io.tidemark.shared.daemons.JobAddresses.ofDaemon(Addresses.HEAD_HASHES, fence.daemon()),
                    m -> HeadsApi.serve(vertx, this, m));
        }
        vertx.eventBus().<JsonObject>consumer(Addresses.JOB_STATE, m -> scan());
        scanTimer = vertx.setPeriodic(SCAN_MILLIS, t -> scan());
        scan();
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(scanTimer);
        return vertx.executeBlocking(() -> {
            runners.values().forEach(HeadRunner::close);
            runners.clear();
            verifiers.dispose();
            memory.close();
            return null;
        });
    }

    /** The job's head itself: for the server's own wiring and tests; readers get {@link HeadReader}. */
    @Override
    public Optional<Head> head(String job) {
        HeadRunner runner = runners.get(job);
        return Optional.ofNullable(runner == null ? null : runner.head());
    }

    /** Whether this daemon holds the job and runs its head (or will, once built). */
    public boolean runsHere(String job) {
        return fence.runs(job);
    }

    /** The runner of a job, for the head routes. */
    Optional<HeadRunner> runner(String job) {
        return Optional.ofNullable(runners.get(job));
    }

    /** The verify hashes of a runner's head, on a verify worker while the head applies. */
    Mono<JsonObject> hashes(HeadRunner runner) {
        return runner.hashes(verifiers, ns -> { });
    }

    private Future<Void> fencedSet(String job, JsonObject fields) {
        return fence.setOnJob(job, fields).map(held -> {
            if (!held) {
                release(job);
            }
            return null;
        });
    }

    /**
     * Brings runners in line with jobs: claims the unbound jobs the binding rule gives this
     * daemon, starts heads for synced jobs it holds, drops heads a resync replaced or that another
     * daemon owns now.
     */
    private void scan() {
        stores.jobs().list().compose(jobs -> fence.claim(jobs).otherwiseEmpty().map(jobs)).onSuccess(jobs -> {
            Map<String, HeadRunner> live = new HashMap<>();
            for (JsonObject job : jobs) {
                String id = job.getString("_id");
                JobState state = JobStore.state(job);
                if (!fence.runs(id)) {
                    if (runners.containsKey(id)) {
                        LOG.info("job {}: not run by this daemon now; its head stops", id);
                        retire(id);
                    } else {
                        deleteStaleHead(id, JobBindings.Binding.of(job));
                    }
                    continue;
                }
                JsonObject sync = job.getJsonObject("sync", new JsonObject());
                long gen = sync.getLong("generation", 0L);
                HeadRunner runner = runners.get(id);
                if (runner != null && (generations.getOrDefault(id, gen) != gen || state == JobState.INITIAL_SYNC)) {
                    LOG.info("job {}: a new initial sync replaces its head", id);
                    retire(id);
                } else if (runner != null && state == JobState.FAILED) {
                    retire(id);
                } else if (runner == null && !closing.contains(id) && state == JobState.ACTIVE && sync.getBoolean("complete", false)) {
                    launch(id, gen, sync);
                } else if (runner != null) {
                    runner.wake();
                    live.put(id, runner);
                    releaseSyncSlices(id, gen, sync, runner);
                }
            }
            reportSizes(live);
        }).onFailure(e -> LOG.warn("applier: cannot list jobs: {}", e.getMessage()));
    }

    private void launch(String job, long gen, JsonObject sync) {
        OpTime start = OpTime.fromJson(sync.getJsonObject("startTs"));
        OpTime end = OpTime.fromJson(sync.getJsonObject("endTs"));
        HeadRunner runner = new HeadRunner(job, config.headsPath().resolve(job), memory, stores,
                config.heads().prefetchBatches(), new Listener())
                .buildGate(() -> StorageHealth.refusal(vertx, "job " + job + ": a head build"))
                .syncDocuments(sync.getLong("documents", -1L));
        runners.put(job, runner);
        generations.put(job, gen);
        // Once a snapshot can rebuild it, its slices are (being) removed: a head built again comes
        // from the latest snapshot and the oplog store.
        boolean rebuild = rebuildRequested.remove(job) | sync.getBoolean("consumed", false);
        Futures.of(runner.open(gen, start, end, rebuilder, rebuild), context).onSuccess(head -> {
            OpTime at = head.appliedPosition();
            LOG.info("job {}: head open at {}", job, at);
            rebuildDone(job, at, null);
            // Recorded now, not only after the next batch: a quiet source may send none for a while.
            appliedTs.submit(job, at);
            vertx.eventBus().publish(Addresses.HEAD_OPENED, new JsonObject().put("job", job).put("appliedTs", at.toJson()));
            runner.wake();
        }).onFailure(e -> {
            runners.remove(job, runner);
            generations.remove(job);
            vertx.executeBlocking(() -> {
                runner.close();
                return null;
            });
            if (e instanceof HeadRunner.BuildDeferred || StorageFailure.is(e)) {
                if (rebuild) {
                    rebuildRequested.add(job); // still asked for: the next scan tries it again
                }
                // Not the job's fault: the next scan tries again once there is space (logged by StorageHealth).
                long suppressed = DEFERRED_LOGS.admit(job);
                if (suppressed >= 0) {
                    LOG.warn("job {}: its head is not opened now: {}; trying again{}", job, e.getMessage(),
                            LogLimiter.suppressedNote(suppressed));
                }
                return;
            }
            if (rebuildRequested.contains(job)) {
                // A rebuild was asked for while this build ran: it replaces whatever this one was.
                LOG.warn("job {}: its head build failed ({}); rebuilding it as asked", job, e.toString());
                scan();
                return;
            }
            LOG.error("job {}: cannot open or build its head: {}", job, e.toString());
            rebuildDone(job, null, e);
            generations.put(job, gen);
            fail(job, "the head could not be built: " + e.getMessage());
        });
    }

    /**
     * The head a daemon kept for a job that another daemon owns now (it lost the job while paused
     * or away): its directory is deleted, on a worker, once the binding names someone else.
     */
    private void deleteStaleHead(String job, JobBindings.Binding binding) {
        if (binding == null || fence.daemon() == null || fence.daemon().equals(binding.daemon())) {
            return;
        }
        java.nio.file.Path dir = config.headsPath().resolve(job);
        vertx.executeBlocking(() -> {
            if (java.nio.file.Files.exists(dir)) {
                io.tidemark.shared.util.Directories.deleteTree(dir);
                LOG.info("job {}: deleted this daemon's stale head {} (daemon {} owns the job at epoch {})", job, dir,
                        binding.daemon(), binding.epoch());
            }
            return null;
        }, false).onFailure(e -> LOG.warn("job {}: could not delete the stale head {}: {}", job, dir, e.getMessage()));
    }

    private void retire(String job) {
        HeadRunner runner = runners.remove(job);
        generations.remove(job);
        if (runner != null) {
            vertx.executeBlocking(() -> {
                runner.close();
                return null;
            });
        }
    }

    /**
     * Walks the heads' directories on a worker (a walk of a big head's files takes a while) and
     * reports their sizes; a walk still running when the next scan comes is not doubled.
     */
    private void reportSizes(Map<String, HeadRunner> live) {
        if (live.isEmpty() || !sizing.compareAndSet(false, true)) {
            return;
        }
        vertx.executeBlocking(() -> {
            Map<String, Long> sizes = new HashMap<>();
            live.forEach((job, runner) -> {
                Head head = runner.head();
                if (head != null) {
                    try {
                        sizes.put(job, head.approximateSizeOnDisk());
                        metrics.dirtyKeys(job, head.dirtyKeysEstimate());
                    } catch (UncheckedIOException | HeadClosedException gone) {
                        // The head was retired and its directory removed while we walked.
                    }
                }
            });
            return sizes;
        }, false).onComplete(ar -> {
            sizing.set(false);
            if (ar.succeeded()) {
                ar.result().forEach((job, bytes) -> {
                    metrics.headSize(job, bytes);
                    headSize.submit(job, bytes);
                });
            }
        });
    }

    /**
     * Marks the job FAILED only while it is still ACTIVE on the sync generation this head was
     * built from: an operator's resync (or a new sync) since then makes this head's failure moot,
     * and must not be undone by it.
     */
    private void fail(String job, String reason) {
        Long gen = generations.get(job);
        if (gen == null) {
            LOG.info("job {}: a retired head failed ({}); the job is left as it is", job, reason);
            return;
        }
        // Fenced like every write for the job: a paused ex-owner's head cannot fail the job.
        stores.jobs().transition(job, java.util.EnumSet.of(JobState.ACTIVE),
                        new JsonObject().put("sync.generation", gen).mergeIn(fence.heldFilter(job)),
                        JobState.FAILED, new JsonObject().put("error", reason))
                .onSuccess(changed -> {
                    if (changed) {
                        vertx.eventBus().publish(Addresses.JOB_STATE,
                                new JsonObject().put("job", job).put("state", JobState.FAILED.name()).put("error", reason));
                    }
                });
    }

    /**
     * Removes a job's initial sync slices once its head has passed the sync's end and a complete
     * snapshot at or after that end exists. Until then the slices stay: a daemon lost before the
     * job's first snapshot completes (a full snapshot of a large deployment takes a while) leaves a
     * head that the next owner builds again from the sync store and the oplog store, which keeps
     * everything since the sync's start while the job has no snapshot; no new initial sync from the
     * customer's cluster is needed. After that a head is rebuilt from the snapshot instead.
     */
    private void releaseSyncSlices(String job, long gen, JsonObject sync, HeadRunner runner) {
        OpTime end = OpTime.fromJson(sync.getJsonObject("endTs"));
        OpTime applied = runner.appliedTs();
        if (sync.getBoolean("consumed", false) || end == null || applied == null || applied.compareTo(end) < 0
                || !releasing.add(job)) {
            return;
        }
        catalog.latestComplete(job).compose(entry -> {
            OpTime ts = entry == null ? null : OpTime.fromJson(entry.getJsonObject("ts"));
            if (ts == null || ts.compareTo(end) < 0) {
                return Future.succeededFuture(false);
            }
            // Recorded before a slice is deleted: from now on a head of this sync generation is
            // built only from a snapshot and the oplog store, never from a sync store that a
            // removal left partly deleted (which would make a head silently missing documents).
            return stores.jobs().setIf(job, new JsonObject().put("sync.generation", gen).mergeIn(fence.heldFilter(job)),
                            new JsonObject().put("sync.consumed", true))
                    .compose(marked -> marked ? Futures.of(stores.sync().deleteOtherGenerations(job, -1), context).map(true)
                            : Future.<Boolean>failedFuture("the job's sync generation or owner changed"));
        }).onSuccess(removed -> {
            if (removed) {
                LOG.info("job {}: initial sync slices removed from the sync store (snapshots rebuild its head from now on)", job);
            }
        }).onFailure(e -> LOG.warn("job {}: could not remove its sync slices: {}", job, e.getMessage()))
                .onComplete(x -> releasing.remove(job));
    }

    /** Hears from runners on their head threads and hands everything back to the event loop. */
    private final class Listener implements HeadRunner.Listener {

        @Override
        public void applied(String job, OpTime appliedTs, int entries, long nanos) {
            context.runOnContext(v -> {
                metrics.batchApplied(job, entries, nanos);
                OpTime stored = storedTips.get(job);
                if (stored != null) {
                    metrics.lag(job, Math.max(0, stored.seconds() - appliedTs.seconds()));
                }
                ApplierVerticle.this.appliedTs.submit(job, appliedTs);
                vertx.eventBus().publish(Addresses.HEAD_APPLIED, new JsonObject().put("job", job).put("appliedTs", appliedTs.toJson()));
            });
        }

        @Override
        public void reachedSyncEnd(String job) {
            // Its slices go once a snapshot can rebuild the head instead (see releaseSyncSlices).
            context.runOnContext(v -> scan());
        }

        @Override
        public void failed(String job, String reason, boolean divergence) {
            context.runOnContext(v -> {
                if (divergence) {
                    metrics.diverged(job);
                }
                fail(job, (divergence ? "head diverged from the source: " : "oplog entry not understood: ") + reason);
            });
        }
    }
}
