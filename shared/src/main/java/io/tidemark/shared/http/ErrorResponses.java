package io.tidemark.shared.http;

import io.tidemark.shared.bson.MalformedBsonException;
import io.tidemark.shared.jobs.UnknownJobException;
import io.tidemark.shared.security.AuthenticationException;
import io.tidemark.shared.storage.StorageFailure;
import io.tidemark.shared.util.LogLimiter;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Turns failures into JSON error replies. Only deliberate client errors are 4xx: an
 * {@link ApiException}, malformed BSON or JSON, an unknown job, a failed authentication. Anything
 * else is a server bug and answers 500 "internal error" with a correlation id that the log line
 * carries too; the reply never shows the exception's text (it may hold internals), and the log
 * names the route pattern, never the request path, which can carry a secret (a download link's
 * token).
 *
 * <p>A failure of the storage itself ({@link StorageFailure}: a full disk, a closed or unreachable
 * store) is not a bug: it answers 503 with {@code Retry-After} and a generic reason, and is logged
 * once per interval per kind, however many requests hit it.
 */
public final class ErrorResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);
    /** Path segments longer than this are not logged: ids are shorter, secrets longer. */
    private static final int MAX_LOGGED_SEGMENT = 24;
    /** What a 503 for unwritable storage advises: the storage health probe looks this often while degraded. */
    public static final int STORAGE_RETRY_AFTER_SECONDS = 10;
    private static final LogLimiter STORAGE_LOG = new LogLimiter(Duration.ofSeconds(30));

    private ErrorResponses() {
    }

    public static void handle(RoutingContext ctx) {
        Throwable failure = ctx.failure();
        if (failure instanceof HttpClosedException || ctx.response().closed()) {
            return; // the client went away mid-request: nobody to answer, and not a server fault
        }
        int status = ctx.statusCode();
        JsonObject body;
        // An ApiException of 500 carries another component's failure (over the event bus): internal too.
        if (failure instanceof ApiException api && api.status() != 500) {
            status = api.status();
            body = api.toJson();
            if (status == 503 && ctx.response().headers().get("Retry-After") == null) {
                // Every 503 says when to come back; clients (the agent) wait that long.
                ctx.response().putHeader("Retry-After", Integer.toString(STORAGE_RETRY_AFTER_SECONDS));
            }
        } else if (failure instanceof MalformedBsonException) {
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
        } else if (failure == null && status >= 400 && status < 500) {
            body = new JsonObject().put("error", switch (status) {
                case 413 -> "request body too large";
                case 404 -> "no such resource";
                case 405 -> "method not allowed";
                case 415 -> "unsupported content type";
                default -> "request failed";
            });
        } else if (storageFailure(failure).isPresent()) {
            StorageFailure.Kind kind = storageFailure(failure).get();
            status = 503;
            long suppressed = STORAGE_LOG.admit(kind.name());
            if (suppressed >= 0) {
                LOG.warn("{} {} refused with 503: {}: {}{}", ctx.request().method(), route(ctx), kind.text(),
                        failure.toString(), LogLimiter.suppressedNote(suppressed));
            }
            ctx.response().putHeader("Retry-After", Integer.toString(STORAGE_RETRY_AFTER_SECONDS));
            body = storageUnavailable(kind).toJson();
        } else {
            status = 500;
            String id = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xFFFF_FFFF_FFFFL);
            LOG.error("{} {} failed (error id {})", ctx.request().method(), route(ctx), id, failure);
            body = new JsonObject().put("error", "internal error").put("errorId", id);
        }
        if (!ctx.response().ended() && !ctx.response().closed()) {
            ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json");
            if (ctx.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
                // Errors are rare: the connection goes with them, so that no client reuses one the
                // server may be tearing down (a request sent on it was seen lost, with no timeout).
                ctx.response().putHeader("Connection", "close");
            }
            if (!ctx.request().isEnded()) {
                UnreadBodies.answerAndClose(ctx, body.toBuffer());
            } else {
                ctx.response().end(body.encode());
            }
        }
    }

    /** A storage failure, unless the failure was a deliberate answer (an ApiException other than 500). */
    private static Optional<StorageFailure.Kind> storageFailure(Throwable failure) {
        if (failure == null || failure instanceof ApiException api && api.status() != 500) {
            return Optional.empty();
        }
        return StorageFailure.classify(failure);
    }

    /** The 503 for storage that cannot be written: the same words on every endpoint. */
    public static ApiException storageUnavailable(StorageFailure.Kind kind) {
        return new ApiException(503, "storage unavailable: " + kind.text() + "; the server recovers by itself when it"
                + " can write again; retry after " + STORAGE_RETRY_AFTER_SECONDS + " s",
                new JsonObject().put("retryAfterSeconds", STORAGE_RETRY_AFTER_SECONDS));
    }

    /**
     * What failed, safe to log: the failure handler's route pattern where it has one (e.g.
     * {@code /download/*}), else the path with every segment long enough to be a secret (a
     * download token is 43 characters) replaced by "…". Never the query string.
     */
    private static String route(RoutingContext ctx) {
        Route route = ctx.currentRoute();
        String pattern = route == null ? null : route.getName();
        if (pattern != null && pattern.startsWith("/")) {
            return (ctx.mountPoint() == null ? "" : ctx.mountPoint().replaceAll("/$", "")) + pattern;
        }
        return redacted(ctx.request().path());
    }

    static String redacted(String path) {
        if (path == null) {
            return "?";
        }
        String out = java.util.Arrays.stream(path.split("/", -1))
                .map(segment -> segment.length() > MAX_LOGGED_SEGMENT ? "…" : segment)
                .collect(java.util.stream.Collectors.joining("/"));
        return out.length() > 200 ? out.substring(0, 200) + "…" : out;
    }
}
