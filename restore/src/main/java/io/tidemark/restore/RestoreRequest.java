package io.tidemark.restore;

import com.mongodb.ConnectionString;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Set;

/**
 * A parsed {@code POST /jobs/:job/restores} body: what to restore (exactly one of a snapshot, an
 * oplog timestamp or a wall-clock time), whether to gzip, and how to deliver it.
 */
record RestoreRequest(String snapshotId, OpTime atTs, Instant at, boolean gzip, Delivery delivery, String target,
                      boolean drop) {

    enum Delivery {
        DOWNLOAD, PUSH;

        String wireName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final Set<String> KEYS = Set.of("snapshot", "atTs", "at", "gzip", "delivery", "target", "drop");

    boolean pointInTime() {
        return snapshotId == null;
    }

    static RestoreRequest fromJson(JsonObject body) {
        int given = (body.containsKey("snapshot") ? 1 : 0) + (body.containsKey("atTs") ? 1 : 0) + (body.containsKey("at") ? 1 : 0);
        if (given != 1) {
            throw ApiException.badRequest("give exactly one of 'snapshot' (a snapshot id), 'atTs' (an oplog timestamp T:I)"
                    + " or 'at' (an ISO-8601 time such as 2024-05-01T12:00:00Z)");
        }
        String snapshot = body.containsKey("snapshot") ? optionalString(body, "snapshot") : null;
        OpTime atTs = null;
        if (body.containsKey("atTs")) {
            try {
                atTs = OpTime.parse(optionalString(body, "atTs"));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("'atTs': " + e.getMessage());
            }
        }
        Instant at = null;
        if (body.containsKey("at")) {
            String text = optionalString(body, "at");
            try {
                at = Instant.parse(text);
            } catch (DateTimeParseException e) {
                throw ApiException.badRequest("'at' must be an ISO-8601 instant such as 2024-05-01T12:00:00Z, got '" + text + "'");
            }
        }
        Object gzip = body.getValue("gzip", false);
        if (!(gzip instanceof Boolean)) {
            throw ApiException.badRequest("'gzip' must be true or false");
        }
        String deliveryName = body.containsKey("delivery") ? optionalString(body, "delivery") : "download";
        Delivery delivery = switch (deliveryName) {
            case "download" -> Delivery.DOWNLOAD;
            case "push" -> Delivery.PUSH;
            default -> throw ApiException.badRequest("'delivery' must be \"download\" or \"push\", not '" + deliveryName + "'");
        };
        String target = body.containsKey("target") ? optionalString(body, "target") : null;
        if (delivery == Delivery.PUSH && target == null) {
            throw ApiException.badRequest("a push needs 'target', the mongodb:// URI of the deployment to restore into");
        }
        if (delivery == Delivery.PUSH) {
            checkTarget(target);
        }
        if (delivery == Delivery.DOWNLOAD && (target != null || body.containsKey("drop"))) {
            throw ApiException.badRequest("'target' and 'drop' only apply to delivery \"push\"");
        }
        Object drop = body.getValue("drop", false);
        if (!(drop instanceof Boolean)) {
            throw ApiException.badRequest("'drop' must be true or false");
        }
        if (delivery == Delivery.PUSH && (Boolean) gzip) {
            throw ApiException.badRequest("'gzip' only applies to delivery \"download\"");
        }
        return new RestoreRequest(snapshot, atTs, at, (Boolean) gzip, delivery, target, (Boolean) drop);
    }

    /**
     * Refuses a push target the driver cannot parse now, rather than accepting the restore and
     * failing it later. The message does not repeat the URI: it may hold a password.
     */
    private static void checkTarget(String target) {
        try {
            new ConnectionString(target);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("'target' must be a valid mongodb:// or mongodb+srv:// connection string");
        }
    }

    private static String optionalString(JsonObject body, String key) {
        Object v = body.getValue(key);
        if (!(v instanceof String s) || s.isBlank()) {
            throw ApiException.badRequest("'" + key + "' must be a non-empty string");
        }
        return s;
    }
}
