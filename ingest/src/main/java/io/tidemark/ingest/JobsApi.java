package io.tidemark.ingest;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumSet;

/** REST routes for jobs, mounted by the front end under {@code /api/v1} behind admin auth. */
public final class JobsApi {

    private static final Logger LOG = LoggerFactory.getLogger(JobsApi.class);
    /** In a job's {@code sync}: an operator asked for a resync and the agent has not begun it yet. */
    static final String AWAITING_SYNC = "awaitingBegin";

    private JobsApi() {
    }

    public static Router router(Vertx vertx, Stores stores) {
        Router router = Router.router(vertx);
        router.get("/jobs").handler(ctx -> stores.jobs().list()
                .onSuccess(jobs -> {
                    JsonArray out = new JsonArray();
                    jobs.forEach(j -> out.add(view(j)));
                    ctx.json(new JsonObject().put("jobs", out));
                })
                .onFailure(ctx::fail));
        router.get("/jobs/:job").handler(ctx -> stores.jobs().resolve(ctx.pathParam("job"))
                .onSuccess(job -> ctx.json(view(job)))
                .onFailure(ctx::fail));
        // takes no body: refuse one rather than ignore it
        router.post("/jobs/:job/resync").handler(ctx -> {
            JsonBodies.read(ctx, Set.of());
            ctx.next();
        });
        router.post("/jobs/:job/resync").handler(ctx -> stores.jobs().resolve(ctx.pathParam("job"))
                .compose(job -> {
                    JobState state = JobStore.state(job);
                    if (state == JobState.INITIAL_SYNC) {
                        throw ApiException.conflict("job " + job.getString("_id") + " is already in INITIAL_SYNC", null);
                    }
                    String id = job.getString("_id");
                    JsonObject sync = job.getJsonObject("sync", new JsonObject());
                    long gen = sync.getLong("generation", 0L);
                    // Marked until the agent begins the new sync (which replaces 'sync' whole): a
                    // resync-required report about the old one must not undo this.
                    JsonObject next = sync.copy().put("complete", false).put(AWAITING_SYNC, true);
                    return stores.jobs().transition(id, EnumSet.of(state), new JsonObject().put("sync.generation", gen),
                                    JobState.INITIAL_SYNC, new JsonObject().put("sync", next).putNull("error"))
                            .map(changed -> {
                                if (!changed) {
                                    throw ApiException.conflict("job " + id + " changed state meanwhile; try again", null);
                                }
                                LOG.info("job {}: resync requested by an operator (was {})", id, state);
                                vertx.eventBus().publish(Addresses.JOB_STATE, new JsonObject().put("job", id)
                                        .put("state", JobState.INITIAL_SYNC.name()));
                                return id;
                            });
                })
                .compose(id -> stores.jobs().find(id))
                .onSuccess(job -> ctx.json(view(job)))
                .onFailure(ctx::fail));
        return router;
    }

    /** A job as the API and CLI show it; positions as {"t","i"}. */
    public static JsonObject view(JsonObject job) {
        JsonObject sync = job.getJsonObject("sync", new JsonObject());
        JsonObject agent = job.getJsonObject("agent", new JsonObject());
        OpTime applied = OpTime.fromJson(job.getJsonObject("appliedTs"));
        OpTime source = OpTime.fromJson(agent.getJsonObject("sourceTs"));
        JsonObject out = new JsonObject()
                .put("id", job.getString("_id"))
                .put("name", job.getString("name"))
                .put("state", job.getString("state"))
                .put("storedTs", job.getJsonObject("storedTs"))
                .put("appliedTs", job.getJsonObject("appliedTs"))
                // How far the head trails the source (as of the agent's last heartbeat); before a head
                // exists, how far the stored oplog does.
                .put("lagSeconds", applied != null && source != null ? Math.max(0, source.seconds() - applied.seconds())
                        : agent.getValue("lagSeconds"))
                .put("captureLagSeconds", agent.getValue("lagSeconds"))
                .put("headSizeBytes", job.getJsonObject("head", new JsonObject()).getValue("sizeBytes"))
                // Which daemon runs the job's head, at which epoch (docs/scale-out.md).
                .put("binding", job.getJsonObject("binding"))
                // A move to another daemon under way, with its progress, and how the last one ended.
                .put("move", job.getJsonObject("move"))
                .put("lastMove", job.getJsonObject("lastMove"))
                .put("sync", new JsonObject()
                        .put("generation", sync.getLong("generation", 0L))
                        .put("complete", sync.getBoolean("complete", false))
                        .put("startTs", sync.getJsonObject("startTs"))
                        .put("endTs", sync.getJsonObject("endTs"))
                        .put("documents", sync.getValue("documents")))
                .put("agent", agent.isEmpty() ? null : new JsonObject()
                        .put("version", agent.getString("agentVersion"))
                        .put("hostname", agent.getString("hostname"))
                        .put("state", agent.getString("state"))
                        .put("lastSeen", agent.getValue("lastSeen")))
                .put("createdAt", job.getValue("createdAt"));
        if (job.getString("error") != null) {
            out.put("error", job.getString("error"));
        }
        return out;
    }
}
