package io.tidemark.agent;

import io.vertx.core.json.JsonObject;

/** The service refused a request (4xx): retrying the same request will not help. */
public class IngestRejection extends RuntimeException {

    private final int status;
    private final JsonObject body;

    IngestRejection(int status, JsonObject body, String what) {
        super(what + " refused with " + status + ": " + body.getString("error", body.encode()));
        this.status = status;
        this.body = body;
    }

    public int status() {
        return status;
    }

    public JsonObject body() {
        return body;
    }
}
