package io.tidemark.deploy;

import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.daemons.DaemonRegistry;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.Set;

/**
 * {@code GET /api/v1/daemons} (the registry with each daemon's jobs),
 * {@code PATCH /api/v1/daemons/:id} ({@code assignment}, {@code backupJobs}),
 * {@code POST /api/v1/daemons/:id/drain} ({@code to}?: move all its jobs) and
 * {@code POST /api/v1/jobs/:job/move} ({@code to}: move one job), behind the admin token like
 * every route under {@code /api/v1}. A move answers 202: the daemons carry it out, and the job's
 * {@code move} shows how far it got.
 */
final class DaemonsApi {

    private static final int DAEMON_ID_MAX = 200;

    private DaemonsApi() {
    }

    static Router router(Vertx vertx, Stores stores, TidemarkConfig.Daemons config) {
        DaemonRegistry registry = new DaemonRegistry(stores.metadata());
        long aliveMillis = config.leaseSeconds() * 1000L;
        Router router = Router.router(vertx);
        router.get("/daemons").handler(ctx -> stores.jobs().list()
                .compose(jobs -> registry.listWithJobs(jobs, aliveMillis))
                .onSuccess(daemons -> {
                    JsonArray out = new JsonArray();
                    daemons.forEach(d -> out.add(view(d)));
                    ctx.json(new JsonObject().put("daemons", out));
                })
                .onFailure(ctx::fail));
        router.patch("/daemons/:id").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("assignment", "backupJobs"));
            Boolean assignment = flag(body, "assignment");
            Boolean backupJobs = flag(body, "backupJobs");
            registry.setSwitches(ctx.pathParam("id"), assignment, backupJobs)
                    .compose(d -> stores.jobs().list().compose(jobs -> registry.listWithJobs(jobs, aliveMillis))
                            .map(all -> all.stream().filter(x -> x.getString("_id").equals(d.getString("_id"))).findFirst().orElse(d)))
                    .onSuccess(d -> ctx.json(view(d)))
                    .onFailure(ctx::fail);
        });
        MoveRequests moves = new MoveRequests(vertx, stores, aliveMillis);
        router.post("/jobs/:job/move").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("to"));
            String to = JsonBodies.requireString(body, "to", DAEMON_ID_MAX);
            moves.move(ctx.pathParam("job"), to, "requested by an operator")
                    .onSuccess(job -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json")
                            .end(io.tidemark.ingest.JobsApi.view(job).encode()))
                    .onFailure(ctx::fail);
        });
        router.post("/daemons/:id/drain").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("to"));
            String to = JsonBodies.optionalString(body, "to", DAEMON_ID_MAX);
            if (ctx.pathParam("id").equals(to)) {
                throw ApiException.badRequest("a daemon cannot be drained to itself");
            }
            moves.drain(ctx.pathParam("id"), to)
                    .onSuccess(r -> ctx.response().setStatusCode(202).putHeader("Content-Type", "application/json").end(r.encode()))
                    .onFailure(ctx::fail);
        });
        return router;
    }

    private static Boolean flag(JsonObject body, String name) {
        Object v = body.getValue(name);
        if (v != null && !(v instanceof Boolean)) {
            throw ApiException.badRequest("'" + name + "' must be true or false");
        }
        return (Boolean) v;
    }

    private static JsonObject view(JsonObject d) {
        JsonObject out = d.copy();
        out.put("id", out.remove("_id"));
        out.remove("held");
        return out;
    }
}
