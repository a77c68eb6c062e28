package io.tidemark.shared.http;

import io.tidemark.shared.bson.MalformedBsonException;
import io.tidemark.shared.jobs.UnknownJobException;
import io.tidemark.shared.security.AuthenticationException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns failures into JSON error replies: client mistakes get a 4xx that says what was wrong,
 * anything else a 500 that is logged with its cause.
 */
public final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

    private ErrorResponses() {
    }

    public static void handle(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        int status = ctx.statusCode();
        JsonObject body;
        if (failure instanceof ApiException api) {
            status = api.status();
            body = api.toJson();
        } else if (failure instanceof MalformedBsonException || failure instanceof IllegalArgumentException) {
            status = 400;
            body = new JsonObject().put("error", failure.getMessage());
        } else if (failure instanceof io.vertx.core.json.DecodeException) {
            status = 400;
            body = new JsonObject().put("error", "the body is not valid JSON");
        } else if (failure instanceof UnknownJobException) {
            status = 404;
            body = new JsonObject().put("error", failure.getMessage());
        } else if (failure instanceof AuthenticationException) {
            status = 401;
            body = new JsonObject().put("error", failure.getMessage());
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
        } else if (failure == null && status >= 400) {
            body = new JsonObject().put("error", status == 413 ? "request body too large"
                    : status == 404 ? "no such resource" : status == 405 ? "method not allowed" : "request failed");
        } else {
            status = 500;
            LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
            body = new JsonObject().put("error", "internal error: " + (failure == null ? "unknown" : failure.getMessage()));
        }
        if (!ctx.response().ended() && !ctx.response().closed()) {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json");
            if (status == 413 && !ctx.request().isEnded()) {
                // The body handler paused the request it refused: read and discard the rest of it,
                // or the connection jams and the client's next request on it never gets an answer.
                // (Closing instead would race the client still writing, and lose this reply.)
                ctx.request().handler(ignored -> { }).resume();
            }
            ctx.response().end(body.encode());
        }
    }
}
