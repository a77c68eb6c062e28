package io.tidemark.ingest;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobIds;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumSet;

/**
 * Agents' registration and heartbeats. The first contact with a new deployment name creates its
 * job; every answer tells the agent where to resume and what state the job is in.
 */
final class AgentRegistry {

    private static final Logger LOG = LoggerFactory.getLogger(AgentRegistry.class);

    private final Vertx vertx;
    private final Stores stores;
    private final OplogIntake oplog;
    private final IngestMetrics metrics;
    private final AgentScope scope;

    AgentRegistry(Vertx vertx, Stores stores, OplogIntake oplog, IngestMetrics metrics, AgentScope scope) {
        this.vertx = vertx;
        this.stores = stores;
        this.oplog = oplog;
        this.metrics = metrics;
        this.scope = scope;
    }

    /** Registers the caller's agent for {@code deployment}, inside the caller's key's scope. */
    Future<JsonObject> register(RoutingContext caller, String deployment, JsonObject agent) {
        try {
            JobIds.checkDeploymentName(deployment);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        return scope.register(caller, deployment)
                .compose(job -> stores.jobs().set(job.getString("_id"), new JsonObject().put("agent", agentInfo(agent)))
                        .compose(v -> {
                            LOG.info("agent {} on {} registered for deployment '{}' (job {}, {})", agent.getString("agentVersion"),
                                    agent.getString("hostname"), deployment, job.getString("_id"), job.getString("state"));
                            return resumeInfo(job);
                        }));
    }

    Future<JsonObject> heartbeat(String jobId, JsonObject agent) {
        Object lag = agent.getValue("lagSeconds");
        if (lag != null && !(lag instanceof Number)) {
            throw ApiException.badRequest("lagSeconds must be a number");
        }
        return stores.jobs().find(jobId)
                .compose(job -> stores.jobs().set(jobId, new JsonObject().put("agent", agentInfo(agent))).map(v -> job))
                .compose(job -> {
                    if (lag != null) {
                        metrics.lag(jobId, ((Number) lag).doubleValue());
                    }
                    return resumeInfo(job);
                });
    }

    /**
     * The agent found its resume point gone from the source's oplog: the job needs a resync. Only
     * a job following the oplog can lose its place: an ACTIVE job, or one in INITIAL_SYNC whose
     * sync has begun. A report that arrives after an operator's resync (the sync it concerned is
     * over; the next one has not begun) is answered with the job's state and changes nothing, so
     * it cannot undo that resync.
     */
    Future<JsonObject> resyncRequired(String jobId, String reason) {
        return stores.jobs().find(jobId).compose(job -> {
            long gen = job.getJsonObject("sync", new JsonObject()).getLong("generation", 0L);
            JsonObject sameSync = new JsonObject().put("sync.generation", gen)
                    .put("sync." + JobsApi.AWAITING_SYNC, new JsonObject().put("$ne", true));
            return stores.jobs().transition(jobId, EnumSet.of(JobState.ACTIVE, JobState.INITIAL_SYNC), sameSync,
                            JobState.RESYNC_REQUIRED, new JsonObject().put("error", reason))
                    .compose(changed -> {
                        if (!changed) {
                            return stores.jobs().find(jobId).map(now -> {
                                LOG.info("job {}: a resync-required report ignored: the job is {} ({})", jobId,
                                        now.getString("state"), reason);
                                return new JsonObject().put("state", now.getString("state"));
                            });
                        }
                        LOG.error("job {}: RESYNC_REQUIRED: {}", jobId, reason);
                        vertx.eventBus().publish(Addresses.JOB_STATE, new JsonObject().put("job", jobId)
                                .put("state", JobState.RESYNC_REQUIRED.name()).put("error", reason));
                        return Future.succeededFuture(new JsonObject().put("state", JobState.RESYNC_REQUIRED.name()));
                    });
        });
    }

    private Future<JsonObject> resumeInfo(JsonObject job) {
        return oplog.tip(job).map(tip -> {
            JsonObject sync = job.getJsonObject("sync", new JsonObject());
            JsonObject out = new JsonObject()
                    .put("job", job.getString("_id"))
                    .put("name", job.getString("name"))
                    .put("state", job.getString("state"))
                    .put("generation", sync.getLong("generation", 0L))
                    .put("syncComplete", sync.getBoolean("complete", false));
            if (tip != null) {
                out.put("storedTs", tip.ts().toJson());
                if (tip.sha256() != null) {
                    out.put("storedEntrySha256", tip.sha256());
                }
            }
            if (job.getString("error") != null) {
                out.put("error", job.getString("error"));
            }
            return out;
        });
    }

    private static JsonObject agentInfo(JsonObject agent) {
        JsonObject info = new JsonObject().put("lastSeen", System.currentTimeMillis());
        for (String key : new String[] {"agentVersion", "hostname", "state", "lagSeconds", "sourceTs"}) {
            if (agent.containsKey(key)) {
                info.put(key, agent.getValue(key));
            }
        }
        return info;
    }
}
