package io.tidemark.ingest;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobIds;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    AgentRegistry(Vertx vertx, Stores stores, OplogIntake oplog, IngestMetrics metrics) {
        this.vertx = vertx;
        this.stores = stores;
        this.oplog = oplog;
        this.metrics = metrics;
    }

    Future<JsonObject> register(String deployment, JsonObject agent) {
        try {
            JobIds.checkDeploymentName(deployment);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        return stores.jobs().register(deployment)
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

    /** The agent found its resume point gone from the source's oplog: the job needs a resync. */
    Future<JsonObject> resyncRequired(String jobId, String reason) {
        return stores.jobs().find(jobId).compose(job -> {
            LOG.error("job {}: RESYNC_REQUIRED: {}", jobId, reason);
            return stores.jobs().set(jobId, new JsonObject().put("state", JobState.RESYNC_REQUIRED.name())
                            .put("error", reason))
                    .map(v -> {
                        vertx.eventBus().publish(Addresses.JOB_STATE, new JsonObject().put("job", jobId)
                                .put("state", JobState.RESYNC_REQUIRED.name()).put("error", reason));
                        return new JsonObject().put("state", JobState.RESYNC_REQUIRED.name());
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
