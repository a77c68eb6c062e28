package io.tidemark.snapshotter;

import io.tidemark.shared.daemons.JobAddresses;
import io.tidemark.shared.daemons.JobOwners;
import io.vertx.core.Future;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.BusReplies;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/**
 * REST routes for snapshots, relative to {@code /api/v1}:
 * <ul>
 * <li>{@code GET /jobs/:job/snapshots[?includeIncomplete=true]} — the catalog, newest first;
 * <li>{@code GET /jobs/:job/snapshots/:snapshot} — one entry (what a waiting CLI polls);
 * <li>{@code POST /jobs/:job/snapshots} with an optional body {@code {"wait": true}} — take a
 *     snapshot now: 202 with its id while it runs, 201 with its totals once complete (with
 *     {@code wait}), 200 with the latest snapshot when the head has not moved since;
 * <li>{@code POST /jobs/:job/snapshots/:snapshot/damaged} with {@code {"reason": "..."}} — mark a
 *     complete snapshot damaged (what {@code tidemark repair} does with one it cannot repair):
 *     it stays listed, restores refuse it and new snapshots no longer build on it.
 * </ul>
 * A job is named by id or deployment name. Taking a snapshot goes over the event bus to
 * whichever process holds the head, so these routes work on a front end without heads.
 */
public final class SnapshotsApi {

    /** How long a {@code wait} request may take before the API gives up waiting (the snapshot goes on). */
    private static final long WAIT_TIMEOUT_MS = 6 * 60 * 60 * 1000L;
    private static final long START_TIMEOUT_MS = 30_000;

    private SnapshotsApi() {
    }

    public static Router router(Vertx vertx, Stores stores) {
        SnapshotCatalog catalog = new SnapshotCatalog(stores.metadata());
        Router router = Router.router(vertx);
        router.get("/jobs/:job/snapshots").handler(ctx -> {
            boolean all = "true".equals(ctx.queryParams().get("includeIncomplete"));
            stores.jobs().resolve(ctx.pathParam("job"))
                    .compose(job -> catalog.list(job.getString("_id"), all))
                    .onSuccess(entries -> {
                        JsonArray out = new JsonArray();
                        entries.forEach(e -> out.add(SnapshotCatalog.view(e)));
                        ctx.json(new JsonObject().put("snapshots", out));
                    })
                    .onFailure(ctx::fail);
        });
        router.get("/jobs/:job/snapshots/:snapshot").handler(ctx -> stores.jobs().resolve(ctx.pathParam("job"))
                .compose(job -> catalog.find(ctx.pathParam("snapshot")).map(entry -> {
                    if (entry == null || !job.getString("_id").equals(entry.getString("job"))) {
                        throw new ApiException(404, "job " + job.getString("_id") + " has no snapshot "
                                + ctx.pathParam("snapshot"));
                    }
                    return SnapshotCatalog.view(entry);
                }))
                .onSuccess(ctx::json)
                .onFailure(ctx::fail));
        router.post("/jobs/:job/snapshots").handler(ctx -> create(vertx, stores, ctx));
        router.post("/jobs/:job/snapshots/:snapshot/damaged").handler(ctx -> {
            String reason = JsonBodies.requireString(JsonBodies.read(ctx, Set.of("reason")), "reason", 1000);
            stores.jobs().resolve(ctx.pathParam("job"))
                    .compose(job -> catalog.markDamaged(job.getString("_id"), ctx.pathParam("snapshot"), reason).map(marked -> {
                        if (!marked) {
                            throw new ApiException(404, "job " + job.getString("_id") + " has no complete snapshot "
                                    + ctx.pathParam("snapshot"));
                        }
                        return marked;
                    }))
                    .compose(v -> catalog.find(ctx.pathParam("snapshot")))
                    .onSuccess(entry -> ctx.json(SnapshotCatalog.view(entry)))
                    .onFailure(ctx::fail);
        });
        return router;
    }

    private static void create(Vertx vertx, Stores stores, RoutingContext ctx) {
        // The body is optional; an empty one reads as no body rather than as invalid JSON.
        JsonObject body = JsonBodies.read(ctx, Set.of("wait", "force"));
        Object waitValue = body.getValue("wait", false);
        Object forceValue = body.getValue("force", false);
        if (!(waitValue instanceof Boolean wait)) {
            ctx.fail(ApiException.badRequest("'wait' must be true or false"));
            return;
        }
        if (!(forceValue instanceof Boolean force)) {
            ctx.fail(ApiException.badRequest("'force' must be true or false"));
            return;
        }
        stores.jobs().resolve(ctx.pathParam("job"))
                .compose(job -> vertx.eventBus().<JsonObject>request(JobAddresses.forJob(Addresses.SNAPSHOT_REQUEST, job),
                        new JsonObject().put("job", job.getString("_id")).put("wait", wait).put("force", force),
                        new DeliveryOptions().setSendTimeout(wait ? WAIT_TIMEOUT_MS : START_TIMEOUT_MS))
                        // The owner is not on this process's bus (or the job is not bound yet): say which daemon has it.
                        .recover(e -> Future.failedFuture(e instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS
                                ? JobOwners.notHere(job, "a snapshot") : e)))
                .onSuccess(reply -> {
                    JsonObject out = reply.body();
                    String status = out.getString("status", "");
                    int code = status.equals("running") ? 202 : status.equals("complete") ? 201 : 200;
                    ctx.response().setStatusCode(code);
                    ctx.json(out);
                })
                .onFailure(e -> ctx.fail(translate(e)));
    }

    private static Throwable translate(Throwable e) {
        return BusReplies.asApiError(e, "no snapshotter is running in this deployment", "the snapshot is still running; list the job's snapshots to follow it");
    }
}
