package io.tidemark.shared.http;

import io.vertx.core.json.JsonObject;

/** A request that cannot be served, with the HTTP status and a message that says why. */
public class ApiException extends RuntimeException {

    private final int status;
    private final JsonObject details;

    public ApiException(int status, String message) {
        this(status, message, null);
    }

    public ApiException(int status, String message, JsonObject details) {
        super(message);
        this.status = status;
        this.details = details;
    }

    public int status() {
        return status;
    }

    public JsonObject toJson() {
        JsonObject body = new JsonObject().put("error", getMessage());
        if (details != null) {
            body.mergeIn(details);
        }
        return body;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }

    public static ApiException conflict(String message, JsonObject details) {
        return new ApiException(409, message, details);
    }
}
