package io.tidemark.restore;

import io.tidemark.shared.http.JsonBodies;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * REST routes for restores, relative to {@code /api/v1} (admin bearer token):
 * <ul>
 * <li>{@code POST /jobs/:job/restores} with {@code {"snapshot": id}}, {@code {"atTs": "T:I"}} or
 *     {@code {"at": "<ISO-8601>"}}, and optionally {@code "gzip": true} and
 *     {@code "delivery": "download"}: 201 with the restore and its {@code downloadUrl}
 *     ({@code /download/<token>} on this front end, shown only in this answer), its
 *     {@code expiresAt} and the position {@code ts} the data will reflect;
 * <li>{@code GET /restores/:id}: the restore's state, bytes sent and error;
 * <li>{@code GET /jobs/:job/restores}: the job's restores, newest first.
 * </ul>
 */
public final class RestoresApi {

    private RestoresApi() {
    }

    public static Router router(Vertx vertx, RestoreService restores) {
        Router router = Router.router(vertx);
        router.post("/jobs/:job/restores").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, RestoreRequest.KEYS);
            restores.create(ctx.pathParam("job"), body)
                    .onSuccess(created -> {
                        ctx.response().setStatusCode(201);
                        ctx.json(created);
                    })
                    .onFailure(ctx::fail);
        });
        router.get("/jobs/:job/restores").handler(ctx -> restores.list(ctx.pathParam("job"))
                .onSuccess(list -> ctx.json(new JsonObject().put("restores", list)))
                .onFailure(ctx::fail));
        router.get("/restores/:id").handler(ctx -> restores.status(ctx.pathParam("id"))
                .onSuccess(ctx::json)
                .onFailure(ctx::fail));
        return router;
    }
}
