package io.tidemark.shared.daemons;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;

/**
 * Job bindings in the metadata DB. The owner and epoch live in the job's own document,
 * {@code binding: {daemon, epoch, boundAt}}, so that a write to the job (its applied position, its
 * head size, a failure) can be conditional on them in the same single-document update; they
 * change only when the owner does. The lease lives in the binding document of collection
 * {@code bindings}, {@code {_id: job, daemon, epoch, leaseUntil}}, which the owner renews every few
 * seconds without touching the job's document. The job's document is the authority: the lease
 * document follows it and is only ever extended for the daemon and epoch the job names.
 *
 * <p>Every change of owner is one compare-and-set on the epoch the changer read, and sets epoch+1:
 * two daemons racing for a job cannot both win, and an owner can tell it lost the job by its epoch
 * alone. A move or failover (docs/scale-out.md) is {@link #take}: the binding changes
 * owner with epoch+1, then the new owner builds the head and runs the job.
 */
public final class JobBindings {

    static final String JOBS = "jobs";
    static final String LEASES = "bindings";

    private final MongoClient db;

    public JobBindings(MongoClient db) {
        this.db = db;
    }

    /** One job's binding as its document holds it (owner and epoch), or null in a job document without one. */
    public record Binding(String job, String daemon, long epoch) {
        public static Binding of(JsonObject jobDoc) {
            JsonObject b = jobDoc.getJsonObject("binding");
            return b == null ? null : new Binding(jobDoc.getString("_id"), b.getString("daemon"), b.getLong("epoch", 0L));
        }
    }

    /** Binds a job that has no binding yet to {@code daemon} at epoch 1; false if it had one. */
    public Future<Boolean> bindNew(String job, String daemon, long leaseMillis) {
        JsonObject filter = new JsonObject().put("_id", job).put("binding", new JsonObject().put("$exists", false));
        return update(filter, binding(daemon, 1)).compose(won -> won ? lease(job, daemon, 1, leaseMillis).map(true) : Future.succeededFuture(false));
    }

    /**
     * Gives the job to {@code daemon} at epoch {@code expectedEpoch + 1}, only if its binding is
     * still at {@code expectedEpoch}: the compare-and-set every change of owner goes through (a
     * restarted daemon re-taking its own jobs, a move, a failover).
     */
    public Future<Boolean> take(String job, long expectedEpoch, String daemon, long leaseMillis) {
        return takeIf(job, expectedEpoch, daemon, leaseMillis, new JsonObject(), new JsonObject());
    }

    /**
     * {@link #take} with more conditions on the job's document and more fields set in the same
     * update: a move's handover changes the owner only while the move is still the one ready.
     */
    Future<Boolean> takeIf(String job, long expectedEpoch, String daemon, long leaseMillis, JsonObject alsoMatch, JsonObject alsoSet) {
        JsonObject filter = alsoMatch.copy().put("_id", job).put("binding.epoch", expectedEpoch);
        return update(filter, binding(daemon, expectedEpoch + 1).mergeIn(alsoSet))
                .compose(won -> won ? lease(job, daemon, expectedEpoch + 1, leaseMillis).map(true) : Future.succeededFuture(false));
    }

    /**
     * Extends the lease of the holder at its epoch; false once someone else took the job. The
     * lease document is written only while the job's document still names this daemon and epoch
     * (checked when the lease document does not match, e.g. after a crash between the two writes
     * of a change of owner).
     */
    public Future<Boolean> renew(String job, String daemon, long epoch, long leaseMillis) {
        JsonObject mine = new JsonObject().put("_id", job).put("daemon", daemon).put("epoch", epoch);
        return db.updateCollection(LEASES, mine, new JsonObject().put("$set",
                        new JsonObject().put("leaseUntil", System.currentTimeMillis() + leaseMillis)))
                .compose(r -> r != null && r.getDocMatched() > 0 ? Future.succeededFuture(true)
                        : holds(job, daemon, epoch).compose(h -> h ? lease(job, daemon, epoch, leaseMillis).map(true) : Future.succeededFuture(false)));
    }

    /** When the job's lease runs out (epoch millis), or 0 without one. */
    public Future<Long> leaseUntil(String job) {
        return db.findOne(LEASES, new JsonObject().put("_id", job), null).map(d -> d == null ? 0L : d.getLong("leaseUntil", 0L));
    }

    /** All binding documents (the leases), for the registry's listing. */
    public Future<java.util.List<JsonObject>> leases() {
        return db.find(LEASES, new JsonObject());
    }

    private Future<Void> lease(String job, String daemon, long epoch, long leaseMillis) {
        JsonObject doc = new JsonObject().put("job", job).put("daemon", daemon).put("epoch", epoch)
                .put("leaseUntil", System.currentTimeMillis() + leaseMillis);
        return db.updateCollectionWithOptions(LEASES, new JsonObject().put("_id", job), new JsonObject().put("$set", doc),
                new io.vertx.ext.mongo.UpdateOptions().setUpsert(true)).mapEmpty();
    }

    /** Whether {@code daemon} still holds the job at {@code epoch}. */
    public Future<Boolean> holds(String job, String daemon, long epoch) {
        return db.count(JOBS, held(job, daemon, epoch)).map(n -> n > 0);
    }

    /**
     * Sets fields on the job only while {@code daemon} holds it at {@code epoch}: the fenced write,
     * one conditional update of one document, which the store applies atomically.
     */
    public Future<Boolean> setIfHeld(String job, String daemon, long epoch, JsonObject fields) {
        return update(held(job, daemon, epoch), fields.copy().put("updatedAt", System.currentTimeMillis()));
    }

    public Future<Binding> find(String job) {
        return db.findOne(JOBS, new JsonObject().put("_id", job), new JsonObject().put("binding", 1))
                .map(doc -> doc == null ? null : Binding.of(doc));
    }

    static JsonObject held(String job, String daemon, long epoch) {
        return new JsonObject().put("_id", job).put("binding.daemon", daemon).put("binding.epoch", epoch);
    }

    private static JsonObject binding(String daemon, long epoch) {
        return new JsonObject().put("binding", new JsonObject().put("daemon", daemon).put("epoch", epoch)
                .put("boundAt", System.currentTimeMillis()));
    }

    private Future<Boolean> update(JsonObject filter, JsonObject set) {
        return db.updateCollection(JOBS, filter, new JsonObject().put("$set", set)).map(r -> r != null && r.getDocMatched() > 0);
    }
}
