package io.tidemark.shared.daemons;

import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The owner's side of moving a job away ({@link JobMoves}): for a job with no complete snapshot,
 * it lets the move go on once one exists; then it stops starting snapshots and grooms
 * of the job, acknowledges once none runs, watches that the destination stays alive, and hands the
 * binding over once the destination's head is ready. Called with every scan of the jobs, so a lost
 * message or a restart only delays a step.
 */
final class MoveSource {

    private static final Logger LOG = LoggerFactory.getLogger(MoveSource.class);

    /** Drops the job here before the binding changes: its head stops and no write for it is admitted. */
    interface Release {
        boolean release(String job, long epoch, String why);
    }

    private final String daemon;
    private final JobMoves moves;
    private final DaemonRegistry registry;
    private final long leaseMillis;
    private final Release release;
    private final SnapshotCatalog catalog;
    /** Guarded by this: jobs moving away, and the snapshots and grooms running per job. */
    private final Set<String> moving = new HashSet<>();
    private final Map<String, Integer> busy = new HashMap<>();

    MoveSource(String daemon, JobMoves moves, DaemonRegistry registry, long leaseMillis, Release release, SnapshotCatalog catalog) {
        this.catalog = catalog;
        this.daemon = daemon;
        this.moves = moves;
        this.registry = registry;
        this.leaseMillis = leaseMillis;
        this.release = release;
    }

    synchronized Runnable enter(String job) {
        if (moving.contains(job)) {
            return null;
        }
        busy.merge(job, 1, Integer::sum);
        boolean[] done = new boolean[1];
        return () -> {
            synchronized (MoveSource.this) {
                if (!done[0]) {
                    done[0] = true;
                    busy.computeIfPresent(job, (j, n) -> n <= 1 ? null : n - 1);
                }
            }
        };
    }

    synchronized boolean moving(String job) {
        return moving.contains(job);
    }

    private synchronized boolean markMoving(String job) {
        moving.add(job);
        return !busy.containsKey(job);
    }

    private synchronized void unmark(String job) {
        moving.remove(job);
    }

    /** One step for every job held here: {@code held} gives the epoch held for the jobs of {@code docs} held. */
    Future<Void> step(List<JsonObject> docs, Map<String, Long> held) {
        List<JobMoves.Move> watched = new ArrayList<>();
        List<Future<?>> steps = new ArrayList<>();
        for (JsonObject doc : docs) {
            String job = doc.getString("_id");
            Long epoch = held.get(job);
            JobBindings.Binding b = JobBindings.Binding.of(doc);
            if (epoch == null || b == null || !daemon.equals(b.daemon()) || b.epoch() != epoch) {
                continue;
            }
            JobMoves.Move m = JobMoves.Move.of(doc);
            if (m == null) {
                unmark(job);
            } else if (daemon.equals(m.to()) && !m.beforeHandover()) {
                unmark(job); // the destination, which completes it once its head runs
            } else if (m.epoch() != epoch || !daemon.equals(m.from())) {
                unmark(job);
                steps.add(moves.fail(m, "the job's owner changed during the move: daemon " + daemon + " holds it at epoch "
                        + epoch + " now (a failover or restart)"));
            } else if (JobMoves.SNAPSHOTTING.equals(m.state())) {
                // Its snapshots must run: the destination needs one to rebuild from.
                unmark(job);
                steps.add(catalog.latestComplete(job).compose(latest -> latest == null ? Future.succeededFuture(false)
                        : moves.snapshotted(m, latest.getString("_id")).onSuccess(ok -> {
                            if (ok) {
                                LOG.info("job {}: snapshot {} taken for its move to daemon {}", job, latest.getString("_id"), m.to());
                            }
                        })));
            } else {
                boolean idle = markMoving(job);
                if (JobMoves.REQUESTED.equals(m.state())) {
                    if (idle) {
                        steps.add(moves.acknowledge(m).onSuccess(ok -> {
                            if (ok) {
                                LOG.info("job {}: moving to daemon {}: no snapshot or groom of it starts here now; the destination"
                                        + " rebuilds its head from its latest snapshot while this head keeps applying", job, m.to());
                            }
                        }));
                    }
                } else {
                    watched.add(m);
                }
            }
        }
        if (!watched.isEmpty()) {
            steps.add(registry.list().compose(daemons -> {
                long now = System.currentTimeMillis();
                List<Future<?>> more = new ArrayList<>();
                for (JobMoves.Move m : watched) {
                    JsonObject to = daemons.stream().filter(d -> m.to().equals(d.getString("_id"))).findFirst().orElse(null);
                    long beat = to == null ? 0L : to.getLong("heartbeatAt", 0L);
                    if (now - beat > leaseMillis) {
                        unmark(m.job());
                        more.add(moves.fail(m, "the destination daemon " + m.to() + " stopped heartbeating"
                                + (beat == 0 ? "" : " " + (now - beat) / 1000 + " s ago")));
                    } else if (JobMoves.READY.equals(m.state())) {
                        more.add(handOver(m));
                    }
                }
                return Future.join(more).mapEmpty();
            }));
        }
        return Future.join(steps).mapEmpty();
    }

    /**
     * Stops this daemon's head of the job and admits no more writes for it, then gives the binding
     * to the destination at epoch+1: the order that keeps the old owner from writing after the new
     * one starts. If the handover does not land, the next scan finds the job bound here without a
     * hold, takes it again (epoch+1) and fails the move as stale: the job keeps a working owner.
     */
    private Future<Void> handOver(JobMoves.Move m) {
        if (!release.release(m.job(), m.epoch(), "handed over to daemon " + m.to())) {
            return Future.succeededFuture();
        }
        unmark(m.job());
        return moves.handOver(m, leaseMillis).onComplete(ar -> {
            if (ar.succeeded() && ar.result()) {
                LOG.info("job {}: handed over to daemon {} at epoch {} (move {})", m.job(), m.to(), m.epoch() + 1, m.id());
            } else {
                LOG.warn("job {}: the handover to daemon {} did not land ({}); the job is taken again here",
                        m.job(), m.to(), ar.failed() ? ar.cause().getMessage() : "the move or binding changed");
            }
        }).mapEmpty();
    }
}
