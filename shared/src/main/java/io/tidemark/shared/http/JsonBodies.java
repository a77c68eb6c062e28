package io.tidemark.shared.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads a JSON request body: it must be sent as {@code application/json} or without a type (any
 * other type is 415) and be a JSON object (else 400); unknown keys are refused so that a misspelt
 * field is not silently ignored, and no string anywhere in it may exceed {@link #MAX_STRING}
 * characters, so that nothing unbounded reaches a store. Routes bound their own fields more tightly.
 */
public final class JsonBodies {

    /** The longest string any JSON body may carry (a target URI, a reason); fields say less where they can. */
    public static final int MAX_STRING = 4096;
    /** JSON bodies are small: nesting deeper than this is not a request anyone means to send. */
    private static final int MAX_DEPTH = 8;

    private JsonBodies() {
    }

    /** The body as an object; an empty body reads as {@code {}}. */
    public static JsonObject read(RoutingContext ctx, Set<String> allowed) {
        JsonObject json = read(ctx);
        Set<String> unknown = new TreeSet<>(json.fieldNames());
        unknown.removeAll(allowed);
        if (!unknown.isEmpty()) {
            throw ApiException.badRequest("unknown keys " + bounded(unknown.toString()) + "; allowed: " + new TreeSet<>(allowed));
        }
        return json;
    }

    /** The body as an object, for routes whose callee checks the keys itself; an empty body reads as {@code {}}. */
    public static JsonObject read(RoutingContext ctx) {
        // Checked even for an empty body: a form-encoded one, say, has been parsed away by now. A
        // body sent without a type is read as JSON, as it always was.
        String type = ctx.request().getHeader("Content-Type");
        boolean empty = ctx.body() == null || ctx.body().length() <= 0;
        if (type != null && !isJson(type)) {
            throw new ApiException(415, "the body must be application/json");
        }
        if (empty) {
            return new JsonObject();
        }
        Object value;
        try {
            value = ctx.body().asJsonObject();
        } catch (ClassCastException e) {
            throw ApiException.badRequest("the body must be a JSON object");
        } catch (RuntimeException e) {
            throw ApiException.badRequest("the body is not valid JSON (it must be a JSON object)");
        }
        if (!(value instanceof JsonObject json)) {
            // Vert.x reads a body of `null` as a null object
            throw ApiException.badRequest("the body must be a JSON object");
        }
        checkBounds(json, 1);
        return json;
    }

    private static boolean isJson(String contentType) {
        String media = contentType.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        return media.equals("application/json") || media.startsWith("application/") && media.endsWith("+json");
    }

    private static void checkBounds(Object value, int depth) {
        if (depth > MAX_DEPTH) {
            throw ApiException.badRequest("the body is nested more than " + MAX_DEPTH + " levels deep");
        }
        if (value instanceof String s && s.length() > MAX_STRING) {
            throw ApiException.badRequest("a string in the body is longer than " + MAX_STRING + " characters");
        } else if (value instanceof JsonObject o) {
            for (Map.Entry<String, Object> e : o) {
                if (e.getKey().length() > MAX_STRING) {
                    throw ApiException.badRequest("a key in the body is longer than " + MAX_STRING + " characters");
                }
                checkBounds(e.getValue(), depth + 1);
            }
        } else if (value instanceof JsonArray a) {
            for (Object item : a) {
                checkBounds(item, depth + 1);
            }
        }
    }

    public static String requireString(JsonObject json, String key) {
        return requireString(json, key, MAX_STRING);
    }

    /** A required, non-blank string of at most {@code maxLength} characters. */
    public static String requireString(JsonObject json, String key, int maxLength) {
        Object v = json.getValue(key);
        if (!(v instanceof String s) || s.isBlank()) {
            throw ApiException.badRequest("'" + key + "' is required and must be a string");
        }
        if (s.length() > maxLength) {
            throw ApiException.badRequest("'" + key + "' must be at most " + maxLength + " characters");
        }
        return s;
    }

    /** An optional string of at most {@code maxLength} characters; null when absent. */
    public static String optionalString(JsonObject json, String key, int maxLength) {
        return json.getValue(key) == null ? null : requireString(json, key, maxLength);
    }

    /** An optional finite number within [min, max]; null when absent. */
    public static Double optionalNumber(JsonObject json, String key, double min, double max) {
        Object v = json.getValue(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue()) || n.doubleValue() < min || n.doubleValue() > max) {
            throw ApiException.badRequest("'" + key + "' must be a number between " + (long) min + " and " + (long) max);
        }
        return n.doubleValue();
    }

    /** An optional whole number within [min, max]; null when absent. */
    public static Long optionalWholeNumber(JsonObject json, String key, long min, long max) {
        Double d = optionalNumber(json, key, min, max);
        if (d != null && d != Math.rint(d)) {
            throw ApiException.badRequest("'" + key + "' must be a whole number");
        }
        return d == null ? null : d.longValue();
    }

    private static String bounded(String s) {
        return s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
