package io.tidemark.shared.daemons;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.config.TidemarkConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The bindings this daemon holds, and the fence every write for their jobs passes.
 *
 * <p><b>Why a paused ex-owner cannot land a write.</b> A job changes owner only by a
 * compare-and-set that raises its epoch ({@link JobBindings#take}), and a move or failover takes a
 * binding away only once its lease has run out ({@code leaseUntil}, which the owner pushes
 * {@code daemons.leaseSeconds} ahead at every renewal). Writes go through one of two checks:
 * <ul>
 *   <li>writes to the job's own document (applied position, head size, a failure) are one
 *       conditional update that matches only while the binding still names this daemon at this
 *       epoch ({@link #setOnJob}): the store decides, atomically, so no pause anywhere lets a
 *       stale one land;</li>
 *   <li>writes elsewhere (snapshot catalog entries, manifests, groom deletions) cannot name the
 *       job's document in the same operation, so {@link #admit} reads the binding from the store
 *       and, when the read returns, checks the local lease deadline: the time this daemon sent
 *       its last successful renewal plus the lease minus a margin of a quarter of it. That
 *       deadline, measured on this process's monotonic clock from before the renewal left, ends
 *       before the stored {@code leaseUntil} (the renewal was written after it was sent) by the
 *       margin, which also covers clock skew between hosts. A paused process finds, when it runs
 *       again, that its deadline has passed, whatever the store said before the pause. The write
 *       is sent in the same callback, with no I/O between: what remains is a pause of more than
 *       the margin (30 s by default) that falls exactly between that check and the send, or a
 *       write that spends more than the margin in transit before the store applies it.</li>
 * </ul>
 * A daemon that finds it lost a job (a renewal, an admit or a fenced write that does not match)
 * drops it at once: {@code onLost} stops its head.
 */
public final class HeldBindings implements JobFence {

    private static final Logger LOG = LoggerFactory.getLogger(HeldBindings.class);

    private final Vertx vertx;
    private final String daemon;
    private final JobBindings bindings;
    private final DaemonRegistry registry;
    private final long leaseMillis;
    private final long renewMillis;
    private final boolean failover;
    private final MoveSource moves;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private final List<Consumer<String>> lostListeners = new CopyOnWriteArrayList<>();
    private volatile boolean backupJobs = true;
    private final java.util.concurrent.atomic.AtomicBoolean claiming = new java.util.concurrent.atomic.AtomicBoolean();
    private long timer = -1;

    private record Held(long epoch, long safeUntilNanos) {
    }

    public HeldBindings(Vertx vertx, MongoClient metadata, String daemon, TidemarkConfig.Daemons config) {
        this.vertx = vertx;
        this.daemon = daemon;
        this.bindings = new JobBindings(metadata);
        this.registry = new DaemonRegistry(metadata);
        this.leaseMillis = config.leaseSeconds() * 1000L;
        this.renewMillis = config.renewSeconds() * 1000L;
        this.failover = config.failover();
        this.moves = new MoveSource(daemon, new JobMoves(metadata, vertx.eventBus()), registry, leaseMillis, this::releaseForMove,
                new io.tidemark.shared.snapshots.SnapshotCatalog(metadata));
    }

    @Override
    public String daemon() {
        return daemon;
    }

    /** Starts renewing; call on the event loop that owns this daemon's timers. */
    public void start() {
        timer = vertx.setPeriodic(renewMillis, t -> renewAll());
    }

    public void stop() {
        vertx.cancelTimer(timer);
    }

    /** Told (on some event loop) the id of every job this daemon lost. */
    public void onLost(Consumer<String> listener) {
        lostListeners.add(listener);
    }

    /** The operator's {@code backupJobs} switch: off stops running the jobs, which stay bound here. */
    public void backupJobs(boolean on) {
        if (backupJobs != on) {
            LOG.info("daemon {}: backup jobs {}", daemon, on ? "on: its jobs run again" : "off: its heads stop, its jobs stay bound to it");
        }
        backupJobs = on;
    }

    /** The jobs held now, with their epochs. */
    public Map<String, Long> held() {
        Map<String, Long> epochs = new java.util.TreeMap<>();
        held.forEach((job, h) -> epochs.put(job, h.epoch()));
        return epochs;
    }

    @Override
    public boolean runs(String job) {
        return backupJobs && held.containsKey(job);
    }

    @Override
    public Runnable enter(String job) {
        return moves.enter(job);
    }

    @Override
    public boolean moving(String job) {
        return moves.moving(job);
    }

    @Override
    public Future<Void> admit(String job) {
        Held h = held.get(job);
        if (h == null) {
            return Future.failedFuture(new StaleBindingException("job " + job + " is not bound to daemon " + daemon));
        }
        return bindings.holds(job, daemon, h.epoch()).compose(holds -> {
            if (!holds) {
                lost(job, h, "another daemon holds its binding now");
                return Future.failedFuture(new StaleBindingException("job " + job + ": daemon " + daemon + " no longer holds epoch "
                        + h.epoch() + "; the write is refused"));
            }
            // Checked after the read returned: the write this admits follows in the same callback.
            if (System.nanoTime() - h.safeUntilNanos() > 0) {
                return Future.failedFuture(new StaleBindingException("job " + job + ": daemon " + daemon
                        + "'s lease on epoch " + h.epoch() + " was not renewed in time; the write is refused"));
            }
            return Future.succeededFuture();
        });
    }

    @Override
    public Future<Boolean> setOnJob(String job, JsonObject fields) {
        Held h = held.get(job);
        if (h == null) {
            return Future.succeededFuture(false);
        }
        return bindings.setIfHeld(job, daemon, h.epoch(), fields).map(matched -> {
            if (!matched) {
                lost(job, h, "a write for it found another epoch");
            }
            return matched;
        });
    }

    @Override
    public JsonObject heldFilter(String job) {
        Held h = held.get(job);
        JsonObject filter = JobBindings.held(job, daemon, h == null ? -1 : h.epoch());
        filter.remove("_id");
        return filter;
    }

    @Override
    public Future<Void> claim(List<JsonObject> jobs) {
        // One claim at a time: a scan that came before the previous claim's writes were answered
        // would see its own new bindings as not held and take them again (epoch + 1 for nothing).
        if (!claiming.compareAndSet(false, true)) {
            return Future.succeededFuture();
        }
        return claimNow(jobs).onComplete(ar -> claiming.set(false));
    }

    private Future<Void> claimNow(List<JsonObject> jobs) {
        List<Future<?>> steps = new ArrayList<>();
        List<String> unbound = new ArrayList<>();
        for (JsonObject doc : jobs) {
            String job = doc.getString("_id");
            JobBindings.Binding b = JobBindings.Binding.of(doc);
            Held h = held.get(job);
            if (b == null) {
                unbound.add(job);
            } else if (!daemon.equals(b.daemon()) || (h != null && h.epoch() != b.epoch())) {
                if (h != null) {
                    lost(job, h, "its binding names daemon " + b.daemon() + " at epoch " + b.epoch());
                }
            } else if (h == null) {
                // Bound to this daemon by an earlier run of it (or a move): taken again with a new
                // epoch, which fences anything the earlier run still had in flight.
                long sent = System.nanoTime();
                steps.add(bindings.take(job, b.epoch(), daemon, leaseMillis).onSuccess(won -> {
                    if (won) {
                        hold(job, b.epoch() + 1, sent, "taken again");
                    }
                }));
            }
        }
        if (!unbound.isEmpty()) {
            steps.add(registry.list().compose(daemons -> {
                Map<String, Integer> counts = DaemonRegistry.boundCounts(jobs);
                Future<Void> chain = Future.succeededFuture();
                for (String job : unbound) {
                    chain = chain.compose(v -> {
                        String chosen = BindingRule.choose(daemons, counts, System.currentTimeMillis(), leaseMillis).orElse(null);
                        if (!daemon.equals(chosen)) {
                            return Future.succeededFuture();
                        }
                        long sent = System.nanoTime();
                        return bindings.bindNew(job, daemon, leaseMillis).map(won -> {
                            if (won) {
                                counts.merge(daemon, 1, Integer::sum);
                                hold(job, 1, sent, "bound (new job)");
                            }
                            return null;
                        });
                    });
                }
                return chain;
            }));
        }
        if (failover && jobs.stream().anyMatch(d -> {
            JobBindings.Binding b = JobBindings.Binding.of(d);
            return b != null && !daemon.equals(b.daemon());
        })) {
            steps.add(takeOverExpired(jobs));
        }
        steps.add(moves.step(jobs, held()));
        return Future.join(steps).mapEmpty();
    }

    /**
     * Automatic failover: a job whose owner has not renewed its lease by {@code leaseUntil} goes to
     * a surviving daemon, the one the binding rule picks among the live daemons (the silent owner's
     * heartbeat is as old as its lease, so it is not among them), by the compare-and-set every change
     * of owner goes through. Safe against an owner that is only paused: it stopped writing for the
     * job a quarter of the lease before {@code leaseUntil} (its local deadline, {@link #admit}), and
     * once the epoch moves on, nothing it sends lands. The new owner finds no head here and
     * rebuilds it from the job's latest snapshot plus the oplog store (no new initial sync).
     */
    private Future<Void> takeOverExpired(List<JsonObject> jobs) {
        return bindings.leases().compose(leases -> {
            long now = System.currentTimeMillis();
            List<ExpiredLeases.Expired> expired = ExpiredLeases.among(jobs, leases, daemon, now, leaseMillis);
            // The registry is read only when a lease ran out: in the steady state none has.
            return expired.isEmpty() ? Future.<Void>succeededFuture()
                    : registry.list().compose(daemons -> takeOver(expired, jobs, daemons, now));
        });
    }

    private Future<Void> takeOver(List<ExpiredLeases.Expired> expired, List<JsonObject> jobs, List<JsonObject> daemons, long now) {
        Map<String, Integer> counts = DaemonRegistry.boundCounts(jobs);
        Future<Void> chain = Future.succeededFuture();
        for (ExpiredLeases.Expired e : expired) {
            chain = chain.compose(v -> {
                String chosen = BindingRule.choose(daemons, counts, now, leaseMillis).orElse(null);
                if (!daemon.equals(chosen)) {
                    return Future.succeededFuture();
                }
                JobBindings.Binding b = e.binding();
                long sent = System.nanoTime();
                return bindings.take(b.job(), b.epoch(), daemon, leaseMillis).map(won -> {
                    if (won) {
                        counts.merge(daemon, 1, Integer::sum);
                        counts.merge(b.daemon(), -1, Integer::sum);
                        hold(b.job(), b.epoch() + 1, sent, "taken over from daemon " + b.daemon() + ", whose lease ran out "
                                + (now - e.leaseUntil()) / 1000 + " s ago (failover),");
                        vertx.eventBus().publish(Addresses.JOB_FAILED_OVER, new JsonObject().put("job", b.job())
                                .put("from", b.daemon()).put("to", daemon).put("epoch", b.epoch() + 1)
                                .put("leaseUntil", e.leaseUntil()));
                    }
                    return null;
                });
            });
        }
        return chain;
    }

    private void hold(String job, long epoch, long sentNanos, String how) {
        held.put(job, new Held(epoch, safeUntil(sentNanos)));
        LOG.info("job {}: {} to daemon {} at epoch {}", job, how, daemon, epoch);
    }

    private long safeUntil(long sentNanos) {
        return sentNanos + (leaseMillis - leaseMillis / 4) * 1_000_000L;
    }

    private void renewAll() {
        held.forEach((job, h) -> {
            long sent = System.nanoTime();
            bindings.renew(job, daemon, h.epoch(), leaseMillis).onSuccess(renewed -> {
                if (renewed) {
                    held.computeIfPresent(job, (j, now) -> now.epoch() == h.epoch() ? new Held(h.epoch(), safeUntil(sent)) : now);
                } else {
                    lost(job, h, "its lease could not be renewed: another daemon took it");
                }
            }).onFailure(e -> LOG.warn("job {}: lease renewal failed (trying again): {}", job, e.getMessage()));
        });
    }

    /** A move's handover: the job stops here (as if lost) before its binding goes to the destination. */
    private boolean releaseForMove(String job, long epoch, String why) {
        Held h = held.get(job);
        if (h == null || h.epoch() != epoch || !drop(job, h)) {
            return false;
        }
        LOG.info("job {}: daemon {} stops its head and writes nothing more for it at epoch {} ({})", job, daemon, epoch, why);
        return true;
    }

    private void lost(String job, Held h, String why) {
        if (drop(job, h)) {
            LOG.warn("job {}: daemon {} lost its binding at epoch {} ({}); its head stops here", job, daemon, h.epoch(), why);
        }
    }

    /** Forgets the hold, if it is still this one, and tells the listeners (its head stops); whether it was. */
    private boolean drop(String job, Held h) {
        if (!held.remove(job, h)) {
            return false;
        }
        lostListeners.forEach(l -> l.accept(job));
        return true;
    }
}
