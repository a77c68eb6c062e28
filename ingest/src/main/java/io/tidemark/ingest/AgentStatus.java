package io.tidemark.ingest;

import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;

/**
 * What an agent says about itself at registration and in heartbeats, checked field by field
 * before any of it is stored: every field has a type and a bound, so a heartbeat cannot store a
 * megabyte hostname or an object where a number belongs.
 */
final class AgentStatus {

    static final int MAX_HOSTNAME = 255;
    static final int MAX_VERSION = 64;
    static final int MAX_STATE = 64;
    static final int MAX_REASON = 4096;
    /** Lag beyond ten years is not lag but a broken clock. */
    static final double MAX_LAG_SECONDS = 10 * 366 * 86_400.0;

    private AgentStatus() {
    }

    /** The validated fields of a register or heartbeat body (only those present). */
    static JsonObject validated(JsonObject body) {
        JsonObject out = new JsonObject();
        String version = JsonBodies.optionalString(body, "agentVersion", MAX_VERSION);
        String hostname = JsonBodies.optionalString(body, "hostname", MAX_HOSTNAME);
        String state = JsonBodies.optionalString(body, "state", MAX_STATE);
        Double lag = JsonBodies.optionalNumber(body, "lagSeconds", 0, MAX_LAG_SECONDS);
        if (version != null) {
            out.put("agentVersion", version);
        }
        if (hostname != null) {
            out.put("hostname", hostname);
        }
        if (state != null) {
            out.put("state", state);
        }
        if (lag != null) {
            out.put("lagSeconds", body.getValue("lagSeconds"));
        }
        if (body.getValue("sourceTs") != null) {
            out.put("sourceTs", position(body, "sourceTs").toJson());
        }
        return out;
    }

    /** A required position {@code {"t": seconds, "i": increment}}, each a whole number in range. */
    static OpTime position(JsonObject body, String key) {
        Object value = body.getValue(key);
        if (!(value instanceof JsonObject json)) {
            throw ApiException.badRequest("'" + key + "' is required as {\"t\": seconds, \"i\": increment}");
        }
        Long t = JsonBodies.optionalWholeNumber(json, "t", 0, 0xFFFF_FFFFL);
        Long i = JsonBodies.optionalWholeNumber(json, "i", 0, 0xFFFF_FFFFL);
        if (t == null || i == null || json.size() != 2) {
            throw ApiException.badRequest("'" + key + "' must be {\"t\": seconds, \"i\": increment}, whole numbers"
                    + " from 0 to 4294967295");
        }
        return new OpTime(t, i);
    }

    /** A position given as {@code T:I} in a query parameter. */
    static OpTime position(String text, String name) {
        try {
            return OpTime.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("'" + name + "': " + e.getMessage());
        }
    }
}
