package io.tidemark.ingest;

import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.security.ApiKeys.Principal;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps each agent key to its deployments (docs/security.md): every job route checks that the
 * job's deployment is in the caller's scope before anything reads or changes the job, and a
 * registration either stays inside the scope or, for a key whose scope grows, adds a deployment
 * nobody registered before.
 *
 * <p>A refusal is decided again from a fresh read of the key, so a scope widened by an admin or by
 * a registration through another front end counts at once; a narrowed one counts once the short
 * authentication cache lets go of the key, the same bound as revocation.
 */
final class AgentScope {

    /** Beyond this many jobs the name cache starts again: a bound on memory, not a correctness matter. */
    private static final int MAX_CACHED_JOBS = 10_000;

    private final Stores stores;
    // A job's id and deployment name never change once the job exists, and an id is never given to
    // another name, so this may be kept without expiry and shared by every key.
    private final Map<String, String> deploymentOfJob = new ConcurrentHashMap<>();

    AgentScope(Stores stores) {
        this.stores = stores;
    }

    /** Route handler for {@code /agent/v1/jobs/:job/*}: 404 for an unknown job, 403 outside the key's scope. */
    void checkJob(RoutingContext ctx) {
        Principal caller = ctx.get("principal");
        String jobId = ctx.pathParam("job");
        deploymentOf(jobId)
                .compose(deployment -> allow(ctx, caller, deployment, "job " + jobId))
                .onSuccess(v -> ctx.next())
                .onFailure(ctx::fail);
    }

    /**
     * The deployment's job for a registration: an existing one if it is in the caller's scope, or
     * a new one, which joins the scope of the key that created it.
     */
    Future<JsonObject> register(RoutingContext ctx, String deployment) {
        Principal caller = ctx.get("principal");
        return stores.jobs().findByName(deployment).compose(existing -> {
            if (existing != null) {
                return allow(ctx, caller, deployment, "deployment '" + deployment + "'").map(existing);
            }
            Future<Void> mayCreate = caller.growing() ? Future.succeededFuture()
                    : allow(ctx, caller, deployment, "deployment '" + deployment + "'");
            return mayCreate
                    .compose(v -> stores.jobs().create(deployment, caller.keyId()))
                    .compose(job -> caller.keyId().equals(job.getString("registeredBy")) && !caller.covers(deployment)
                            ? stores.keys().claim(caller.keyId(), deployment).map(job)
                            // Another key created it between our look-up and our insert.
                            : allow(ctx, caller, deployment, "deployment '" + deployment + "'").map(job));
        });
    }

    private Future<String> deploymentOf(String jobId) {
        String known = deploymentOfJob.get(jobId);
        if (known != null) {
            return Future.succeededFuture(known);
        }
        return stores.jobs().find(jobId).map(job -> {
            if (deploymentOfJob.size() >= MAX_CACHED_JOBS) {
                deploymentOfJob.clear();
            }
            deploymentOfJob.put(jobId, job.getString("name"));
            return job.getString("name");
        });
    }

    /** Succeeds if {@code deployment} is in the caller's scope; {@code what} names it in the refusal. */
    private Future<Void> allow(RoutingContext ctx, Principal caller, String deployment, String what) {
        if (caller.covers(deployment)) {
            return Future.succeededFuture();
        }
        return stores.keys().reauthenticate(bearer(ctx), ApiKeys.Kind.AGENT).compose(fresh -> {
            if (fresh.covers(deployment)) {
                ctx.put("principal", fresh);
                return Future.succeededFuture();
            }
            return Future.failedFuture(new ApiException(403, what + " is outside this agent key's scope (its deployments);"
                    + " an admin can widen it with 'tidemark keys scope " + caller.keyId() + " --add <deployment name>'"));
        });
    }

    private static String bearer(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        return header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : null;
    }
}
