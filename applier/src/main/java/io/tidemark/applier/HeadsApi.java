package io.tidemark.applier;

import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.daemons.JobAddresses;
import io.tidemark.shared.daemons.JobOwners;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.BusReplies;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Futures;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * REST routes about heads, mounted under {@code /api/v1}: the per-namespace content hashes that
 * {@code tidemark verify} compares with the live source.
 */
public final class HeadsApi {

    private static final long POLL_MILLIS = 200;
    private static final int MAX_WAIT_SECONDS = 600;
    /** How long a forwarded request may take beyond its wait: hashing a big head reads all of it. */
    private static final int HASH_SECONDS = 1_800;

    private HeadsApi() {
    }

    public static Router router(Vertx vertx, Stores stores, ApplierVerticle applier) {
        Router router = Router.router(vertx);
        router.get("/jobs/:job/head/hashes").handler(ctx -> hashes(vertx, stores, applier, ctx));
        return router;
    }

    /**
     * Waits until the head has applied at least {@code atLeast} (T:I), then hashes every namespace
     * from one consistent view, on a worker while the head keeps applying, and says at which
     * position.
     */
    private static void hashes(Vertx vertx, Stores stores, ApplierVerticle applier, RoutingContext ctx) {
        String atLeastParam = ctx.queryParams().get("atLeast");
        OpTime atLeast;
        try {
            atLeast = atLeastParam == null ? OpTime.ZERO : OpTime.parse(atLeastParam);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("'atLeast': " + e.getMessage());
        }
        int waitSeconds = intParam(ctx, "waitSeconds", 60);
        stores.jobs().resolve(ctx.pathParam("job"))
                .compose(job -> applier != null && applier.runsHere(job.getString("_id"))
                        ? local(vertx, applier, job.getString("_id"), atLeast, waitSeconds)
                        : fromOwner(vertx, job, atLeast, waitSeconds))
                .onSuccess(ctx::json)
                .onFailure(ctx::fail);
    }

    /** The hashes of a head this process runs, once it applied {@code atLeast}. */
    static Future<JsonObject> local(Vertx vertx, ApplierVerticle applier, String job, OpTime atLeast, int waitSeconds) {
        return awaitApplied(vertx, applier, job, atLeast, System.currentTimeMillis() + waitSeconds * 1000L)
                .compose(runner -> Futures.of(applier.hashes(runner), vertx.getOrCreateContext())
                        .recover(e -> Future.failedFuture(e instanceof HeadClosedException
                                ? new ApiException(409, "the head of " + runner.job() + " was closed (a resync, a failure or shutdown); try again")
                                : e)));
    }

    /**
     * The hashes of a head another daemon runs, asked of it over the (clustered) event bus at its
     * own address; without a way to reach it, the 409 that names the owner.
     */
    private static Future<JsonObject> fromOwner(Vertx vertx, JsonObject job, OpTime atLeast, int waitSeconds) {
        if (job.getJsonObject("binding") == null) {
            return Future.failedFuture(JobOwners.notHere(job, "the head"));
        }
        JsonObject ask = new JsonObject().put("job", job.getString("_id")).put("atLeast", atLeast.toJson()).put("waitSeconds", waitSeconds);
        return vertx.eventBus().<JsonObject>request(JobAddresses.forJob(Addresses.HEAD_HASHES, job), ask,
                        new DeliveryOptions().setSendTimeout((waitSeconds + HASH_SECONDS) * 1000L))
                .map(Message::body)
                // Not reachable on this process's bus: the 409 that names the owner.
                .recover(e -> Future.failedFuture(e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS
                        ? JobOwners.notHere(job, "the head")
                        : BusReplies.asApiError(e, "", "the daemon running the head of " + job.getString("_id") + " did not answer in time")));
    }

    /** Serves {@link #fromOwner} on this daemon: {"job", "atLeast", "waitSeconds"} to the hashes. */
    static void serve(Vertx vertx, ApplierVerticle applier, Message<JsonObject> msg) {
        JsonObject ask = msg.body();
        String job = ask.getString("job");
        if (job == null || !applier.runsHere(job)) {
            msg.fail(409, "the head of job " + job + " does not run on this daemon (it moved?); try again");
            return;
        }
        local(vertx, applier, job, OpTime.fromJson(ask.getJsonObject("atLeast")), Math.min(MAX_WAIT_SECONDS, ask.getInteger("waitSeconds", 60)))
                .onSuccess(msg::reply)
                .onFailure(e -> msg.fail(e instanceof ApiException a ? a.status() : 500, String.valueOf(e.getMessage())));
    }

    private static Future<HeadRunner> awaitApplied(Vertx vertx, ApplierVerticle applier, String job, OpTime atLeast, long deadline) {
        Promise<HeadRunner> done = Promise.promise();
        poll(vertx, applier, job, atLeast, deadline, done);
        return done.future();
    }

    private static void poll(Vertx vertx, ApplierVerticle applier, String job, OpTime atLeast, long deadline, Promise<HeadRunner> done) {
        HeadRunner runner = applier.runner(job).orElse(null);
        OpTime applied = runner == null ? null : runner.appliedTs();
        if (applied != null && applied.compareTo(atLeast) >= 0) {
            done.complete(runner);
        } else if (System.currentTimeMillis() > deadline) {
            done.fail(new ApiException(409, runner == null ? "job " + job + " has no head yet"
                    : "the head of " + job + " has applied up to " + applied + ", not yet " + atLeast,
                    new JsonObject().put("appliedTs", applied == null ? null : applied.toJson())));
        } else {
            vertx.setTimer(POLL_MILLIS, t -> poll(vertx, applier, job, atLeast, deadline, done));
        }
    }

    private static int intParam(RoutingContext ctx, String name, int fallback) {
        String v = ctx.queryParams().get(name);
        try {
            int n = v == null ? fallback : Integer.parseInt(v);
            if (n < 0 || n > MAX_WAIT_SECONDS) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("'" + name + "' must be a number of seconds from 0 to " + MAX_WAIT_SECONDS);
        }
    }
}
