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
 * {@code GET /api/v1/daemons} (the registry with each daemon's jobs) and
 * {@code PATCH /api/v1/daemons/:id} ({@code assignment}, {@code backupJobs}), behind the admin
 * token like every route under {@code /api/v1}.
 */
final class DaemonsApi {

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
