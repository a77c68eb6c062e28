package io.tidemark.shared.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;
import java.util.TreeSet;

/** Reads a JSON request body, refusing unknown keys so that a misspelt field is not silently ignored. */
public final class JsonBodies {

    private JsonBodies() {
    }

    public static JsonObject read(RoutingContext ctx, Set<String> allowed) {
        if (ctx.body() == null || ctx.body().length() <= 0) {
            return new JsonObject();
        }
        JsonObject json;
        try {
            json = ctx.body().asJsonObject();
        } catch (RuntimeException e) {
            throw ApiException.badRequest("the body is not a JSON object");
        }
        Set<String> unknown = new TreeSet<>(json.fieldNames());
        unknown.removeAll(allowed);
        if (!unknown.isEmpty()) {
            throw ApiException.badRequest("unknown keys " + unknown + "; allowed: " + new TreeSet<>(allowed));
        }
        return json;
    }

    public static String requireString(JsonObject json, String key) {
        Object v = json.getValue(key);
        if (!(v instanceof String s) || s.isBlank()) {
            throw ApiException.badRequest("'" + key + "' is required and must be a string");
        }
        return s;
    }
}
