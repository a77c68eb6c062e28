package io.tidemark.deploy;

import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.Locale;
import java.util.Set;

/** REST routes for API keys: create (the only time a token is shown), list, revoke. */
final class KeysApi {

    private KeysApi() {
    }

    static Router router(Vertx vertx, Stores stores) {
        Router router = Router.router(vertx);
        router.get("/keys").handler(ctx -> stores.keys().list()
                .onSuccess(keys -> ctx.json(new JsonObject().put("keys", new JsonArray(keys))))
                .onFailure(ctx::fail));
        router.post("/keys").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("kind", "name"));
            ApiKeys.Kind kind;
            try {
                kind = ApiKeys.Kind.valueOf(JsonBodies.requireString(body, "kind").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("'kind' must be 'agent' or 'admin'");
            }
            String name = JsonBodies.optionalString(body, "name", 128);
            stores.keys().create(kind, name != null ? name : kind.name().toLowerCase(Locale.ROOT) + " key")
                    .onSuccess(k -> ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json")
                            .end(new JsonObject().put("id", k.id()).put("kind", k.kind().name()).put("name", k.name())
                                    .put("token", k.token()).encode()))
                    .onFailure(ctx::fail);
        });
        router.delete("/keys/:id").handler(ctx -> stores.keys().revoke(ctx.pathParam("id"))
                .onSuccess(revoked -> {
                    if (!revoked) {
                        ctx.fail(new ApiException(404, "no active key with id '" + ctx.pathParam("id") + "'"));
                    } else {
                        ctx.json(new JsonObject().put("id", ctx.pathParam("id")).put("revoked", true));
                    }
                })
                .onFailure(ctx::fail));
        return router;
    }
}
