package io.tidemark.deploy;

import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.jobs.JobIds;
import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.bus.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * REST routes for API keys: create (the only time a token is shown), list, change an agent key's
 * scope, revoke. Bodies are checked whole before anything is stored.
 */
final class KeysApi {

    static final int MAX_NAME_CHARS = 100;
    /** More deployments than one key should ever carry; bounds a body's effect on a key record. */
    static final int MAX_DEPLOYMENTS = 1000;

    private KeysApi() {
    }

    static Router router(Vertx vertx, Stores stores) {
        Router router = Router.router(vertx);
        router.get("/keys").handler(ctx -> stores.keys().list()
                .onSuccess(keys -> ctx.json(new JsonObject().put("keys", new JsonArray(keys))))
                .onFailure(ctx::fail));
        router.post("/keys").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("kind", "name", "deployments"));
            ApiKeys.Kind kind;
            try {
                kind = ApiKeys.Kind.valueOf(JsonBodies.requireString(body, "kind").toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("'kind' must be 'agent' or 'admin'");
            }
            String name = body.containsKey("name") ? keyName(body.getValue("name")) : kind.name().toLowerCase(Locale.ROOT) + " key";
            List<String> deployments = body.containsKey("deployments") ? deployments(body.getValue("deployments"), "deployments") : null;
            if (kind == ApiKeys.Kind.ADMIN && deployments != null) {
                throw ApiException.badRequest("'deployments' applies to agent keys; an admin token is not scoped to deployments");
            }
            stores.keys().create(kind, name, deployments)
                    .onSuccess(k -> {
                        JsonObject out = new JsonObject().put("id", k.id()).put("kind", k.kind().name()).put("name", k.name())
                                .put("token", k.token());
                        if (kind == ApiKeys.Kind.AGENT) {
                            out.put("deployments", new JsonArray(deployments == null ? List.of() : deployments))
                                    .put("growing", deployments == null);
                        }
                        ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json").end(out.encode());
                    })
                    .onFailure(ctx::fail);
        });
        router.post("/keys/:id/scope").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("add", "remove", "growing"));
            List<String> add = body.containsKey("add") ? deployments(body.getValue("add"), "add") : List.of();
            List<String> remove = body.containsKey("remove") ? deployments(body.getValue("remove"), "remove") : List.of();
            Object growing = body.getValue("growing");
            if (body.containsKey("growing") && !(growing instanceof Boolean)) {
                throw ApiException.badRequest("'growing' must be true or false");
            }
            String id = ctx.pathParam("id");
            stores.keys().rescope(id, add, remove, (Boolean) growing)
                    .onSuccess(key -> {
                        if (key == null) {
                            ctx.fail(new ApiException(404, "no agent key with id '" + id + "' (admin tokens have no scope)"));
                        } else {
                            ctx.json(key);
                        }
                    })
                    .onFailure(ctx::fail);
        });
        router.delete("/keys/:id").handler(ctx -> stores.keys().revoke(ctx.pathParam("id"))
                .onSuccess(revoked -> {
                    if (!revoked) {
                        ctx.fail(new ApiException(404, "no active key with id '" + ctx.pathParam("id") + "'"));
                    } else {
                        // Every front end drops its cached copy now (docs/scale-out.md, "Stateless front ends").
                        vertx.eventBus().publish(Addresses.KEY_REVOKED, new JsonObject().put("id", ctx.pathParam("id")));
                        ctx.json(new JsonObject().put("id", ctx.pathParam("id")).put("revoked", true));
                    }
                })
                .onFailure(ctx::fail));
        return router;
    }

    /** A key's name is shown in lists and logs: a printable string of bounded length. */
    private static String keyName(Object value) {
        if (!(value instanceof String s) || s.isBlank() || s.length() > MAX_NAME_CHARS
                || s.codePoints().anyMatch(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT
                || Character.getType(c) == Character.LINE_SEPARATOR || Character.getType(c) == Character.PARAGRAPH_SEPARATOR)) {
            throw ApiException.badRequest("'name' must be a string of 1-" + MAX_NAME_CHARS + " printable characters");
        }
        return s;
    }

    private static List<String> deployments(Object value, String key) {
        if (!(value instanceof JsonArray array) || array.size() > MAX_DEPLOYMENTS) {
            throw ApiException.badRequest("'" + key + "' must be a list of at most " + MAX_DEPLOYMENTS + " deployment names");
        }
        List<String> names = new ArrayList<>();
        for (Object o : array) {
            try {
                JobIds.checkDeploymentName(o instanceof String s ? s : null);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("'" + key + "': " + e.getMessage());
            }
            names.add((String) o);
        }
        return List.copyOf(new TreeSet<>(names));
    }
}
