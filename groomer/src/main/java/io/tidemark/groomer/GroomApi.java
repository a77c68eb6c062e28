package io.tidemark.groomer;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.daemons.JobAddresses;
import io.tidemark.shared.daemons.JobOwners;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.BusReplies;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.snapshots.RetentionPolicies;
import io.tidemark.shared.snapshots.RetentionPolicy;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;

/**
 * REST routes for retention and grooming, relative to {@code /api/v1}:
 * <ul>
 * <li>{@code GET /jobs/:job/policy} — the policy in effect ({@code "default": true} when the job
 *     has none of its own);
 * <li>{@code PUT /jobs/:job/policy} (or {@code POST}) with any of the policy's fields — changes
 *     them, the others keep their current value; 400 naming every invalid field;
 * <li>{@code DELETE /jobs/:job/policy} — back to the defaults;
 * <li>{@code POST /jobs/:job/groom} with an optional {@code {"dryRun": true}} — groom now and
 *     answer with the report;
 * <li>{@code GET /jobs/:job/check[?readData=true]} — verify the live snapshots; 200 with
 *     {@code "ok": false} and the problems when something is wrong.
 * </ul>
 * Grooms and checks go over the event bus to the process that grooms, so these routes work on a
 * front end without the block store.
 */
public final class GroomApi {

    /** A groom or a check reading every block of a large store takes a while. */
    private static final long TIMEOUT_MS = 6 * 60 * 60 * 1000L;

    private GroomApi() {
    }

    public static Router router(Vertx vertx, Stores stores) {
        RetentionPolicies policies = new RetentionPolicies(stores.metadata());
        Router router = Router.router(vertx);
        router.get("/jobs/:job/policy").handler(ctx -> jobId(stores, ctx)
                .compose(job -> policies.stored(job).map(p -> view(job, p)))
                .onSuccess(ctx::json)
                .onFailure(ctx::fail));
        router.put("/jobs/:job/policy").handler(ctx -> setPolicy(stores, policies, ctx));
        router.post("/jobs/:job/policy").handler(ctx -> setPolicy(stores, policies, ctx));
        router.delete("/jobs/:job/policy").handler(ctx -> jobId(stores, ctx)
                .compose(job -> policies.remove(job).map(v -> view(job, null)))
                .onSuccess(ctx::json)
                .onFailure(ctx::fail));
        router.post("/jobs/:job/groom").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("dryRun"));
            Object dry = body.getValue("dryRun", false);
            if (!(dry instanceof Boolean dryRun)) {
                ctx.fail(ApiException.badRequest("the body may only hold 'dryRun' (true or false)"));
                return;
            }
            stores.jobs().resolve(ctx.pathParam("job"))
                    .compose(job -> request(vertx, JobAddresses.forJob(Addresses.GROOM_REQUEST, job),
                            new JsonObject().put("job", job.getString("_id")).put("dryRun", dryRun))
                            // A bound job whose owner is not on this process's bus: say which daemon has it (an
                            // unbound one with no groomer anywhere stays the 503 below).
                            .recover(e -> Future.failedFuture(e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS
                                    && job.containsKey("binding") ? JobOwners.notHere(job, "a groom") : e)))
                    .onSuccess(ctx::json)
                    .onFailure(e -> ctx.fail(translate(e)));
        });
        router.get("/jobs/:job/check").handler(ctx -> {
            String readData = ctx.queryParams().get("readData");
            if (readData != null && !readData.equals("true") && !readData.equals("false")) {
                ctx.fail(ApiException.badRequest("readData must be true or false"));
                return;
            }
            jobId(stores, ctx)
                    .compose(job -> request(vertx, Addresses.GROOM_CHECK,
                            new JsonObject().put("job", job).put("readData", "true".equals(readData))))
                    .onSuccess(ctx::json)
                    .onFailure(e -> ctx.fail(translate(e)));
        });
        return router;
    }

    private static void setPolicy(Stores stores, RetentionPolicies policies, RoutingContext ctx) {
        JsonObject body;
        try {
            body = JsonBodies.read(ctx);
        } catch (ApiException e) {
            ctx.fail(e);
            return;
        }
        jobId(stores, ctx)
                .compose(job -> policies.effective(job).compose(current -> {
                    RetentionPolicy next;
                    try {
                        next = RetentionPolicy.fromJson(body, current);
                    } catch (IllegalArgumentException e) {
                        return Future.failedFuture(ApiException.badRequest(e.getMessage()));
                    }
                    return policies.put(job, next).map(v -> view(job, next));
                }))
                .onSuccess(ctx::json)
                .onFailure(ctx::fail);
    }

    private static Future<String> jobId(Stores stores, RoutingContext ctx) {
        return stores.jobs().resolve(ctx.pathParam("job")).map(job -> job.getString("_id"));
    }

    private static JsonObject view(String job, RetentionPolicy stored) {
        return new JsonObject().put("job", job)
                .put("policy", (stored == null ? RetentionPolicy.DEFAULT : stored).toJson())
                .put("default", stored == null);
    }

    private static Future<JsonObject> request(Vertx vertx, String address, JsonObject body) {
        return vertx.eventBus().<JsonObject>request(address, body, new DeliveryOptions().setSendTimeout(TIMEOUT_MS))
                .map(reply -> reply.body());
    }

    private static Throwable translate(Throwable e) {
        return BusReplies.asApiError(e, "no groomer is running in this deployment", "the groomer did not answer in time; it goes on in the background");
    }
}
