package io.tidemark.deploy;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.daemons.BindingRule;
import io.tidemark.shared.daemons.DaemonRegistry;
import io.tidemark.shared.daemons.JobAddresses;
import io.tidemark.shared.daemons.JobBindings;
import io.tidemark.shared.daemons.JobMoves;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * An operator's moves: one job to a named daemon ({@code jobs move}), or every job of a daemon
 * ({@code daemons drain}, Ops Manager's "move all heads"). Checks what would make the move fail
 * before it starts, so that the answer says why at once, then records the request; the daemons do
 * the rest ({@link JobMoves}). Any front end serves it: everything lives in the metadata DB.
 */
final class MoveRequests {

    private static final Logger LOG = LoggerFactory.getLogger(MoveRequests.class);

    private final Vertx vertx;
    private final Stores stores;
    private final DaemonRegistry registry;
    private final JobMoves moves;
    private final SnapshotCatalog catalog;
    private final long aliveMillis;

    MoveRequests(Vertx vertx, Stores stores, long aliveMillis) {
        this.vertx = vertx;
        this.stores = stores;
        this.registry = new DaemonRegistry(stores.metadata());
        this.moves = new JobMoves(stores.metadata(), vertx.eventBus());
        this.catalog = new SnapshotCatalog(stores.metadata());
        this.aliveMillis = aliveMillis;
    }

    /** Moves one job (id or deployment name) to {@code to}: the job's document with its new move. */
    Future<JsonObject> move(String jobIdOrName, String to, String why) {
        return stores.jobs().resolve(jobIdOrName).compose(job -> registry.list().compose(daemons -> request(job, to, daemons, why)));
    }

    /**
     * Drains a daemon: turns its assignment off, so no new job goes to it, then moves each of its
     * jobs to {@code to}, or (without one) to the daemon the binding rule picks among the others.
     * Jobs that cannot move now are listed with why; the others are moving.
     */
    Future<JsonObject> drain(String daemon, String to) {
        return registry.setSwitches(daemon, false, null).compose(d -> stores.jobs().list().compose(jobs -> registry.list().compose(daemons -> {
            if (to != null && daemons.stream().noneMatch(x -> to.equals(x.getString("_id")))) {
                throw new ApiException(404, "no daemon '" + to + "' to drain daemon " + daemon + " to (see 'tidemark daemons list')");
            }
            List<JsonObject> others = daemons.stream().filter(x -> !daemon.equals(x.getString("_id"))).toList();
            Map<String, Integer> counts = DaemonRegistry.boundCounts(jobs);
            JsonArray moving = new JsonArray();
            JsonArray skipped = new JsonArray();
            Future<Void> chain = Future.succeededFuture();
            for (JsonObject job : jobs) {
                JobBindings.Binding b = JobBindings.Binding.of(job);
                if (b == null || !daemon.equals(b.daemon())) {
                    continue;
                }
                chain = chain.compose(v -> {
                    String dest = to != null ? to : BindingRule.choose(others, counts, System.currentTimeMillis(), aliveMillis).orElse(null);
                    if (dest == null) {
                        skipped.add(new JsonObject().put("job", job.getString("_id")).put("error",
                                "no other daemon is alive with assignment and backup jobs on"));
                        return Future.succeededFuture();
                    }
                    return request(job, dest, daemons, "drain of daemon " + daemon).map(moved -> {
                        counts.merge(dest, 1, Integer::sum);
                        moving.add(new JsonObject().put("job", job.getString("_id")).put("to", dest)
                                .put("moveId", moved.getJsonObject("move").getString("id")));
                        return (Void) null;
                    }).recover(e -> {
                        skipped.add(new JsonObject().put("job", job.getString("_id")).put("error", e.getMessage()));
                        return Future.succeededFuture();
                    });
                });
            }
            return chain.map(v -> {
                LOG.info("daemon {}: drain requested{}: assignment off, {} jobs moving, {} not moved", daemon,
                        to == null ? "" : " to daemon " + to, moving.size(), skipped.size());
                return new JsonObject().put("daemon", daemon).put("assignment", false).put("moving", moving).put("skipped", skipped);
            });
        })));
    }

    private Future<JsonObject> request(JsonObject job, String to, List<JsonObject> daemons, String why) {
        String id = job.getString("_id");
        JobBindings.Binding b = JobBindings.Binding.of(job);
        JobMoves.Move running = JobMoves.Move.of(job);
        JobState state = JobStore.state(job);
        if (state != JobState.ACTIVE || !job.getJsonObject("sync", new JsonObject()).getBoolean("complete", false)) {
            throw conflict(id, "only an ACTIVE job whose initial sync is complete has a head to move; it is " + state);
        }
        if (b == null) {
            throw conflict(id, "it is not bound to a daemon yet; try again shortly");
        }
        if (running != null) {
            throw conflict(id, "it is already moving from daemon " + running.from() + " to daemon " + running.to() + " ("
                    + running.state() + "); 'tidemark jobs list' shows its progress");
        }
        if (to.equals(b.daemon())) {
            throw conflict(id, "it is bound to daemon " + to + " already");
        }
        JsonObject dest = daemons.stream().filter(d -> to.equals(d.getString("_id"))).findFirst()
                .orElseThrow(() -> new ApiException(404, "no daemon '" + to + "' (see 'tidemark daemons list')"));
        if (System.currentTimeMillis() - dest.getLong("heartbeatAt", 0L) > aliveMillis) {
            throw conflict(id, "daemon " + to + " is not alive (no heartbeat within the lease)");
        }
        if (!dest.getBoolean("backupJobs", true)) {
            throw conflict(id, "daemon " + to + " has backup jobs off; turn them on first ('tidemark daemons set " + to
                    + " --backup-jobs on')");
        }
        // A job with no complete snapshot yet (its first is taken at the schedule's next tick) moves
        // once its owner took one: asked for here, and the move waits for it ('snapshotting').
        return catalog.latestComplete(id).compose(latest -> moves.request(id, b.daemon(), b.epoch(), to, why, latest == null)
                .map(move -> {
                    if (move != null && latest == null) {
                        askForSnapshot(job);
                    }
                    return move;
                })).compose(move -> {
            if (move == null) {
                throw conflict(id, "its binding or move changed meanwhile; try again");
            }
            LOG.info("job {}: move from daemon {} (epoch {}) to daemon {} requested ({}), move {}", id, b.daemon(), b.epoch(), to,
                    why, move.getString("id"));
            return stores.jobs().find(id);
        });
    }

    /**
     * Asks the owner for the snapshot a move waits for. Only for speed: if this message is lost,
     * the owner's schedule takes the job's first snapshot at its next tick, and the move goes on then.
     */
    private void askForSnapshot(JsonObject job) {
        String id = job.getString("_id");
        vertx.eventBus().<JsonObject>request(JobAddresses.forJob(Addresses.SNAPSHOT_REQUEST, job),
                        new JsonObject().put("job", id).put("wait", false).put("force", false),
                        new DeliveryOptions().setSendTimeout(30_000))
                .onFailure(e -> LOG.info("job {}: the snapshot its move waits for was not started now ({}); the owner's"
                        + " schedule takes it", id, e.getMessage()));
    }

    private static ApiException conflict(String job, String why) {
        return new ApiException(409, "job " + job + " cannot move: " + why, new JsonObject().put("job", job));
    }
}
