package io.tidemark.shared.daemons;

import io.tidemark.shared.jobs.JobStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import reactor.core.publisher.Mono;

import java.util.List;

/**
 * What the parts that write for a job (heads, snapshots, grooms) ask before they write: whether
 * this process holds the job's binding, at the epoch it holds. See docs/scale-out.md, "Leases and
 * epochs", and {@link HeldBindings} for why a paused ex-owner cannot land a write.
 */
public interface JobFence {

    /** The daemon id of this process, or null for a sole writer (which is no registered daemon). */
    String daemon();

    /** Whether this process holds the job's binding and runs its jobs (backupJobs on). */
    boolean runs(String job);

    /**
     * Succeeds while this process holds the job's binding at its epoch, read from the metadata DB
     * now; otherwise fails with {@link StaleBindingException} (and the job stops here).
     */
    Future<Void> admit(String job);

    /**
     * Sets fields on the job's document only while this process holds its binding at its epoch:
     * one conditional update, so no window at all. False when it did not (the job stops here).
     */
    Future<Boolean> setOnJob(String job, JsonObject fields);

    /**
     * Conditions to add to a conditional update of the job's document so that it matches only
     * while this process holds the binding at its epoch (empty for a sole writer); a job this
     * process does not hold gets a condition that matches nothing.
     */
    JsonObject heldFilter(String job);

    /** Binds the jobs nobody owns that the binding rule gives this process; called with every scan. */
    Future<Void> claim(List<JsonObject> jobs);

    /**
     * Marks the start of work a move of the job must wait for (a snapshot, a groom): returns what
     * marks its end, or null when the job is moving away from this process, so that the work does
     * not start (docs/scale-out.md, "Moving jobs").
     */
    default Runnable enter(String job) {
        return () -> { };
    }

    /** Whether the job is moving away from this process (no snapshots or grooms of it start). */
    default boolean moving(String job) {
        return false;
    }

    /** As {@link #admit}, for Reactor pipelines. */
    default Mono<Void> admitMono(String job) {
        return Mono.defer(() -> Mono.fromCompletionStage(admit(job).toCompletionStage()));
    }

    /**
     * The fence of a process that is the only writer by construction (tests that wire one part
     * alone, tools on a stopped server): every job runs here and every write is admitted.
     */
    static JobFence soleWriter(JobStore jobs) {
        return new JobFence() {
            @Override
            public String daemon() {
                return null;
            }

            @Override
            public boolean runs(String job) {
                return true;
            }

            @Override
            public Future<Void> admit(String job) {
                return Future.succeededFuture();
            }

            @Override
            public Future<Boolean> setOnJob(String job, JsonObject fields) {
                return jobs.set(job, fields).map(true);
            }

            @Override
            public JsonObject heldFilter(String job) {
                return new JsonObject();
            }

            @Override
            public Future<Void> claim(List<JsonObject> all) {
                return Future.succeededFuture();
            }
        };
    }
}
