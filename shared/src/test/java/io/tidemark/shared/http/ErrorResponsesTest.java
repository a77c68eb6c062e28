package io.tidemark.shared.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a failed request answers and logs: no server bug dressed as a client error, no secret in the log. */
class ErrorResponsesTest {

    /** Shaped like a download link's token: 32 random bytes, base64url. */
    private static final String TOKEN = "q8Zk3vN0xW2bT7yR5uJ1mP4sL6dH9fA0cE2gI8oK3nB";

    static Vertx vertx;
    static HttpServer server;
    static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        router.route().handler(BodyHandler.create(false));
        router.get("/download/:token").handler(ctx -> {
            throw new IllegalArgumentException("internal detail /var/lib/secret-path");
        });
        router.get("/refused").handler(ctx -> {
            throw ApiException.badRequest("you asked for something wrong");
        });
        router.get("/remote").handler(ctx -> ctx.fail(new ApiException(500, "a remote component's internals")));
        router.get("/full").handler(ctx -> ctx.fail(new java.io.UncheckedIOException(
                new java.io.IOException("No space left on device: /var/lib/tidemark/blocks/packs/0001.pack"))));
        router.get("/closed").handler(ctx -> ctx.fail(new ApiException(500, "Command failed with error 90098:"
                + " storage unavailable: the embedded store is closed after a failed write")));
        router.post("/json").handler(ctx -> ctx.json(JsonBodies.read(ctx, Set.of("a"))));
        router.route().failureHandler(ErrorResponses::handle);
        server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        // A connection per call: every error response closes its connection (ErrorResponses), and a
        // pooled one being closed could take the next call down with it.
        client = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setKeepAlive(false));
    }

    @AfterAll
    static void stop() {
        vertx.close();
    }

    @Test
    void aServerBugIsA500WithAnIdAndNeitherItsMessageNorThePathIsShownOrLogged() {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        JsonObject reply;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            reply = call(HttpMethod.GET, "/download/" + TOKEN + "?also=" + TOKEN, null, null);
        } finally {
            System.setErr(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertEquals(500, reply.getInteger("status"), "an IllegalArgumentException is a server bug, not a 400");
        assertEquals("internal error", reply.getString("error"));
        String id = reply.getString("errorId");
        assertNotNull(id);
        assertFalse(reply.encode().contains("secret-path"), reply.encode());
        assertTrue(log.contains(id), "the log line carries the id: " + log);
        assertTrue(log.contains("GET /download/…"), "the log says what failed: " + log);
        assertFalse(log.contains(TOKEN), "the path's token is not logged: " + log);
    }

    @Test
    void pathsAreLoggedWithoutLongSegments() {
        assertEquals("/api/v1/jobs/prod-orders-1a2b3c/policy", ErrorResponses.redacted("/api/v1/jobs/prod-orders-1a2b3c/policy"));
        assertEquals("/download/…", ErrorResponses.redacted("/download/" + TOKEN));
    }

    @Test
    void anotherComponentsFailureIsInternalToo() {
        JsonObject reply = call(HttpMethod.GET, "/remote", null, null);
        assertEquals(500, reply.getInteger("status"));
        assertEquals("internal error", reply.getString("error"));
    }

    @Test
    void storageThatCannotBeWrittenIsA503WithRetryAfterAndAGenericReasonLoggedOncePerInterval() {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        JsonObject full;
        JsonObject closed;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            full = call(HttpMethod.GET, "/full", null, null);
            for (int i = 0; i < 20; i++) {
                call(HttpMethod.GET, "/full", null, null);
            }
            closed = call(HttpMethod.GET, "/closed", null, null);
        } finally {
            System.setErr(original);
        }
        assertEquals(503, full.getInteger("status"), full.encode());
        assertEquals(String.valueOf(ErrorResponses.STORAGE_RETRY_AFTER_SECONDS), full.getString("retryAfter"));
        assertTrue(full.getString("error").startsWith("storage unavailable: a disk is full"), full.encode());
        assertFalse(full.encode().contains("/var/lib"), "no internals in the reply: " + full.encode());
        assertEquals(503, closed.getInteger("status"), "relayed from another component, a storage failure is still one");
        assertTrue(closed.getString("error").startsWith("storage unavailable"), closed.encode());
        String log = captured.toString(StandardCharsets.UTF_8);
        assertEquals(1, log.lines().filter(l -> l.contains("GET /full refused with 503")).count(), "once per interval: " + log);
    }

    @Test
    void deliberateRefusalsAre4xx() {
        JsonObject refused = call(HttpMethod.GET, "/refused", null, null);
        assertEquals(400, refused.getInteger("status"));
        assertEquals("you asked for something wrong", refused.getString("error"));
        for (String body : new String[] {"null", "[1]", "7", "\"s\"", "{\"a\":"}) {
            JsonObject r = call(HttpMethod.POST, "/json", body, "application/json");
            assertEquals(400, r.getInteger("status"), body);
        }
        assertEquals(415, call(HttpMethod.POST, "/json", "{\"a\":1}", "text/plain").getInteger("status"));
        assertEquals(415, call(HttpMethod.POST, "/json", "a=1", "application/x-www-form-urlencoded").getInteger("status"));
        assertEquals(400, call(HttpMethod.POST, "/json", "{\"a\":\"" + "x".repeat(JsonBodies.MAX_STRING + 1) + "\"}",
                "application/json").getInteger("status"));
        assertEquals(200, call(HttpMethod.POST, "/json", "{\"a\":1}", "application/json; charset=utf-8").getInteger("status"));
    }

    private static JsonObject call(HttpMethod method, String path, String body, String type) {
        RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(server.actualPort())
                .setURI(path).setTimeout(10_000);
        if (type != null) {
            options.putHeader("Content-Type", type);
        }
        Future<JsonObject> reply = client.request(options)
                .compose(req -> body == null ? req.send() : req.send(body))
                .compose(resp -> resp.body().map(b -> b.toJsonObject().put("status", resp.statusCode())
                        .put("retryAfter", resp.getHeader("Retry-After"))));
        try {
            return reply.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
