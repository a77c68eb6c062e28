package io.tidemark.shared.daemons;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;

/**
 * Moves of jobs between daemons, kept in the job's own document as {@code move} while one runs and
 * {@code lastMove} once it ended (completed or failed, with why). Every step is one conditional
 * update of that document, so a step that comes late (its move was failed or replaced, the owner
 * changed) matches nothing and changes nothing.
 *
 * <p>The steps, and who takes them (docs/scale-out.md, "Moving jobs"):
 * <ol>
 *   <li>{@code snapshotting}, only for a job with no complete snapshot yet: the owner takes one
 *       (asked over the bus, else by its schedule, which takes a job's first snapshot at its next
 *       tick) and then makes the move {@code requested};</li>
 *   <li>{@code requested}: an operator (or a drain) asks, while the owner holds the job at the
 *       epoch the request names;</li>
 *   <li>{@code rebuilding}: the owner acknowledges once it starts no more snapshots or grooms of
 *       the job and none runs, so that the snapshot the destination rebuilds from stays the
 *       latest (a later one would carry change tracking the rebuilt head does not share);</li>
 *   <li>{@code ready}: the destination rebuilt the head from that snapshot and the oplog store and
 *       caught up close to the stored tip; the owner keeps applying meanwhile;</li>
 *   <li>{@code handedOver}: the owner stops its head and gives the binding to the destination
 *       with epoch+1 in the same update ({@link JobBindings#takeIf}); from then on nothing the old
 *       owner sends for the job lands;</li>
 *   <li>completed: the destination's head is open and applying; {@code move} becomes
 *       {@code lastMove}.</li>
 * </ol>
 * Any step may instead fail the move ({@link #fail}): the job keeps (or gets back, by its
 * ordinary lease) a working owner.
 */
public final class JobMoves {

    public static final String SNAPSHOTTING = "snapshotting";
    public static final String REQUESTED = "requested";
    public static final String REBUILDING = "rebuilding";
    public static final String READY = "ready";
    public static final String HANDED_OVER = "handedOver";

    private static final Logger LOG = LoggerFactory.getLogger(JobMoves.class);

    private final MongoClient db;
    private final JobBindings bindings;
    private final EventBus bus;

    /** @param bus where a failed move is published ({@code tidemark.job.move.failed}) */
    public JobMoves(MongoClient db, EventBus bus) {
        this.db = db;
        this.bindings = new JobBindings(db);
        this.bus = bus;
    }

    /** A job's running move as its document holds it, or null. */
    public record Move(String job, String id, String from, String to, long epoch, String state, JsonObject doc) {

        public static Move of(JsonObject jobDoc) {
            JsonObject m = jobDoc.getJsonObject("move");
            return m == null ? null : new Move(jobDoc.getString("_id"), m.getString("id"), m.getString("from"), m.getString("to"),
                    m.getLong("epoch", 0L), m.getString("state"), m);
        }

        /** Whether the owner still runs the job's head and must not snapshot or groom it. */
        public boolean beforeHandover() {
            return !HANDED_OVER.equals(state);
        }
    }

    /**
     * Asks for a move of a job held by {@code from} at {@code epoch} to {@code to}; completes with
     * the move, or null when the job has a running move or another binding by now.
     */
    public Future<JsonObject> request(String job, String from, long epoch, String to, String why) {
        return request(job, from, epoch, to, why, false);
    }

    /**
     * The same; with {@code snapshotFirst} (the job has no complete snapshot to rebuild its head
     * from) the move starts {@code snapshotting}, and the owner takes one first.
     */
    public Future<JsonObject> request(String job, String from, long epoch, String to, String why, boolean snapshotFirst) {
        long now = System.currentTimeMillis();
        JsonObject move = new JsonObject().put("id", UUID.randomUUID().toString()).put("from", from).put("to", to)
                .put("epoch", epoch).put("state", snapshotFirst ? SNAPSHOTTING : REQUESTED).put("why", why)
                .put("requestedAt", now).put("updatedAt", now)
                .put("bytesLoaded", 0L).put("entriesCaughtUp", 0L);
        JsonObject filter = JobBindings.held(job, from, epoch).put("move", new JsonObject().put("$exists", false));
        return set(filter, new JsonObject().put("move", move)).map(ok -> ok ? move : null);
    }

    /** The owner has a complete snapshot of the job now, {@code snapshotId}: the move goes on as requested. */
    public Future<Boolean> snapshotted(Move m, String snapshotId) {
        long now = System.currentTimeMillis();
        return set(JobBindings.held(m.job(), m.from(), m.epoch()).put("move.id", m.id()).put("move.state", SNAPSHOTTING),
                new JsonObject().put("move.state", REQUESTED).put("move.snapshotId", snapshotId).put("move.snapshottedAt", now)
                        .put("move.updatedAt", now));
    }

    /** The owner starts no more snapshots or grooms of the job and none runs: the destination may rebuild. */
    public Future<Boolean> acknowledge(Move m) {
        return set(JobBindings.held(m.job(), m.from(), m.epoch()).put("move.id", m.id()).put("move.state", REQUESTED),
                new JsonObject().put("move.state", REBUILDING).put("move.acknowledgedAt", System.currentTimeMillis()));
    }

    /** The destination's progress: {@code fields} under {@code move}, while the move is this one. */
    public Future<Boolean> progress(Move m, JsonObject fields) {
        JsonObject set = new JsonObject().put("move.updatedAt", System.currentTimeMillis());
        fields.forEach(e -> set.put("move." + e.getKey(), e.getValue()));
        return set(new JsonObject().put("_id", m.job()).put("move.id", m.id()).put("move.to", m.to()), set);
    }

    /** The destination's head is rebuilt and caught up: the owner may hand over. */
    public Future<Boolean> ready(Move m, JsonObject fields) {
        JsonObject set = new JsonObject().put("move.state", READY).put("move.readyAt", System.currentTimeMillis());
        fields.forEach(e -> set.put("move." + e.getKey(), e.getValue()));
        return set(new JsonObject().put("_id", m.job()).put("move.id", m.id()).put("move.state", REBUILDING), set);
    }

    /**
     * The owner gives the job to the destination at epoch+1, only while it still holds it at the
     * move's epoch and the move is this one, ready. The caller has already stopped writing for it.
     */
    public Future<Boolean> handOver(Move m, long leaseMillis) {
        return bindings.takeIf(m.job(), m.epoch(), m.to(), leaseMillis,
                new JsonObject().put("binding.daemon", m.from()).put("move.id", m.id()).put("move.state", READY),
                new JsonObject().put("move.state", HANDED_OVER).put("move.handedOverAt", System.currentTimeMillis()));
    }

    /** The destination holds the job at {@code epoch} and runs its head: the move becomes {@code lastMove}. */
    public Future<Boolean> complete(Move m, long epoch, JsonObject fields) {
        long now = System.currentTimeMillis();
        JsonObject last = m.doc().copy().mergeIn(fields).put("state", "completed").put("endedAt", now)
                .put("durationMs", now - m.doc().getLong("requestedAt", now));
        return update(JobBindings.held(m.job(), m.to(), epoch).put("move.id", m.id()),
                new JsonObject().put("$set", new JsonObject().put("lastMove", last)).put("$unset", new JsonObject().put("move", "")))
                .onSuccess(done -> {
                    if (done) {
                        counted("completed");
                    }
                });
    }

    /** {@code tidemark_job_moves_total{outcome}}: moves that ended, counted by the process that ended them. */
    private static void counted(String outcome) {
        io.micrometer.core.instrument.Counter.builder("tidemark.job.moves").tag("outcome", outcome)
                .description("moves of jobs between daemons that ended").register(Metrics.registry()).increment();
    }

    /**
     * Ends the move as failed, saying why in {@code lastMove}, and publishes
     * {@code tidemark.job.move.failed}; false when it was no longer running.
     */
    public Future<Boolean> fail(Move m, String why) {
        long now = System.currentTimeMillis();
        JsonObject last = m.doc().copy().put("state", "failed").put("error", why).put("endedAt", now);
        return update(new JsonObject().put("_id", m.job()).put("move.id", m.id()),
                new JsonObject().put("$set", new JsonObject().put("lastMove", last)).put("$unset", new JsonObject().put("move", "")))
                .onSuccess(failed -> {
                    if (failed) {
                        counted("failed");
                        LOG.warn("job {}: its move from daemon {} to daemon {} failed: {}; the job stays with its"
                                + " owner", m.job(), m.from(), m.to(), why);
                        bus.publish(Addresses.JOB_MOVE_FAILED, new JsonObject().put("job", m.job()).put("moveId", m.id())
                                .put("from", m.from()).put("to", m.to()).put("error", why));
                    }
                });
    }

    private Future<Boolean> set(JsonObject filter, JsonObject fields) {
        return update(filter, new JsonObject().put("$set", fields));
    }

    private Future<Boolean> update(JsonObject filter, JsonObject update) {
        return db.updateCollection(JobBindings.JOBS, filter, update).map(r -> r != null && r.getDocMatched() > 0);
    }
}
