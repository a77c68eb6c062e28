package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP edges under abuse: bodies refused before they are read, the ingest byte budget, cut
 * idle requests, and JSON that is not an object or not JSON.
 */
class HttpHardeningTest {

    private static final int IDLE_SECONDS = 3;
    private static final long MAX_BODY = 64L * 1024 * 1024;
    private static final OpTime START = new OpTime(1_700_000_000L, 1);

    @TempDir
    static Path dataDir;

    static TidemarkServer server;
    static Vertx vertx;
    static JsonObject creds;
    static IngestClient agent;
    static String job;

    @BeforeAll
    static void start() {
        server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of(
                "TIDEMARK_INGEST_MAXBODYBYTES", String.valueOf(MAX_BODY),
                "TIDEMARK_INGEST_MAXBYTESINFLIGHT", String.valueOf(2 * MAX_BODY),
                "TIDEMARK_INGEST_REQUESTIDLESECONDS", String.valueOf(IDLE_SECONDS),
                "TIDEMARK_API_REQUESTIDLESECONDS", String.valueOf(IDLE_SECONDS))));
        vertx = Vertx.vertx();
        creds = CredentialsFile.read(server.config().dataPath());
        agent = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"), creds.getString("certificateSha256"), null);
        job = CaptureHarness.join(agent.register("hardening-test", "host")).getString("job");
        CaptureHarness.join(agent.beginSync(job, START, START));
    }

    @AfterAll
    static void stop() {
        agent.close();
        vertx.close();
        server.close();
    }

    private static RawHttps connect(int port) throws Exception {
        return new RawHttps(port, creds.getString("certificateSha256"));
    }

    /**
     * 60 MiB sent without credentials, to both servers: the answer is 401 and the connection
     * closes after the client managed to write only a small part of it. A server that read the
     * body first (or drained it after refusing) would take all 60 MiB.
     */
    @Test
    void aLargeUnauthenticatedBodyIsRefusedBeforeItIsRead() throws Exception {
        long total = 60L * 1024 * 1024;
        for (String[] target : List.of(new String[] {"ingest", "/agent/v1/jobs/" + job + "/oplog?prev=1:1", "application/bson"},
                new String[] {"api", "/api/v1/keys", "application/json"})) {
            int port = target[0].equals("ingest") ? server.ingestPort() : server.apiPort();
            try (RawHttps raw = connect(port)) {
                raw.head("POST", target[1], "Content-Type: " + target[2], "Content-Length: " + total);
                AtomicLong written = new AtomicLong();
                Thread writer = new Thread(() -> {
                    byte[] chunk = new byte[64 * 1024];
                    try {
                        while (written.get() < total) {
                            raw.write(chunk);
                            written.addAndGet(chunk.length);
                        }
                    } catch (Exception closed) {
                        // the server closed the connection: what this test wants
                    }
                }, "unauthenticated-writer");
                writer.start();
                String head = raw.readHead();
                assertNotNull(head, target[0] + ": the server answers before closing");
                assertEquals(401, RawHttps.status(head), head);
                assertTrue(head.toLowerCase().contains("connection: close"), head);
                writer.join(TimeUnit.SECONDS.toMillis(30));
                assertFalse(writer.isAlive(), target[0] + ": the connection was closed, not left to drain 60 MiB");
                // Whatever the client wrote sits at most in the kernels' socket buffers and a bounded
                // linger the server discards: far below the body.
                assertTrue(written.get() < 16L * 1024 * 1024, target[0] + ": the client could write " + written.get() + " bytes");
            }
        }
    }

    @Test
    void aDeclaredLengthOverTheLimitIs413AtOnce() throws Exception {
        try (RawHttps raw = connect(server.ingestPort())) {
            raw.head("POST", "/agent/v1/jobs/" + job + "/oplog?prev=1:1", "Content-Type: application/bson",
                    "Authorization: Bearer " + creds.getString("agentKey"), "Content-Length: " + (MAX_BODY + 1));
            String head = raw.readHead();
            assertEquals(413, RawHttps.status(head), head);
            assertTrue(raw.closedWithin(5_000), "the connection is closed, the body never read");
        }
    }

    /**
     * Two held requests that declare the largest body take the whole budget: the next is 503 with
     * Retry-After, unread; the agent's client waits as told and gets through once they are gone.
     */
    @Test
    void aFullBudgetAnswers503AndTheAgentRetries() throws Exception {
        RawHttps a = connect(server.ingestPort());
        RawHttps b = connect(server.ingestPort());
        try {
            for (RawHttps held : List.of(a, b)) {
                held.head("PUT", "/agent/v1/jobs/" + job + "/sync/1/slices/0?ns=db.c", "Content-Type: application/bson",
                        "Authorization: Bearer " + creds.getString("agentKey"), "Content-Length: " + MAX_BODY);
                held.write(new byte[] {1, 2, 3});
            }
            CaptureHarness.await("the held bodies to take the budget", java.time.Duration.ofSeconds(10),
                    () -> inFlight() >= 2 * MAX_BODY);
            try (RawHttps refused = connect(server.ingestPort())) {
                byte[] body = "{}".getBytes(StandardCharsets.US_ASCII);
                refused.head("POST", "/agent/v1/jobs/" + job + "/heartbeat", "Content-Type: application/json",
                        "Authorization: Bearer " + creds.getString("agentKey"), "Content-Length: " + body.length);
                refused.write(body);
                String head = refused.readHead();
                assertEquals(503, RawHttps.status(head), head);
                assertTrue(head.toLowerCase().contains("retry-after: 1"), head);
            }
            long before = System.nanoTime();
            var heartbeat = agent.heartbeat(job, new JsonObject());
            Thread.sleep(500);
            assertFalse(heartbeat.isComplete(), "the agent waits while the budget is taken");
            a.close();
            b.close();
            assertNotNull(CaptureHarness.join(heartbeat).getString("state"));
            assertTrue(System.nanoTime() - before >= TimeUnit.MILLISECONDS.toNanos(1000), "it waited as Retry-After said");
            CaptureHarness.await("the budget to be given back", java.time.Duration.ofSeconds(10), () -> inFlight() == 0);
        } finally {
            a.close();
            b.close();
        }
    }

    private static double inFlight() {
        var gauge = io.tidemark.shared.metrics.Metrics.registry().find("tidemark.ingest.inflight").gauge();
        return gauge == null ? -1 : gauge.value();
    }

    @Test
    void aRequestHeldHalfSentIsCutAndASlowOneThatProgressesIsNot() throws Exception {
        for (int port : new int[] {server.ingestPort(), server.apiPort()}) {
            String path = port == server.ingestPort() ? "/agent/v1/jobs/" + job + "/heartbeat" : "/api/v1/jobs/" + job + "/groom";
            String token = port == server.ingestPort() ? creds.getString("agentKey") : creds.getString("adminToken");
            try (RawHttps held = connect(port); RawHttps headersOnly = connect(port)) {
                long start = System.nanoTime();
                held.head("POST", path, "Content-Type: application/json", "Authorization: Bearer " + token, "Content-Length: 100");
                held.write("{".getBytes(StandardCharsets.US_ASCII));
                headersOnly.write(("POST " + path + " HTTP/1.1\r\nHost: x\r\n").getBytes(StandardCharsets.US_ASCII));
                assertTrue(held.closedWithin(TimeUnit.SECONDS.toMillis(IDLE_SECONDS + 5)), "a half-sent body is cut");
                assertTrue(headersOnly.closedWithin(TimeUnit.SECONDS.toMillis(3)), "half-sent headers are cut");
                assertTrue(System.nanoTime() - start >= TimeUnit.SECONDS.toNanos(IDLE_SECONDS) - TimeUnit.MILLISECONDS.toNanos(100),
                        "not before the idle time");
            }
        }
        // {"dryRun": false} with whitespace trickled in over twice the idle time
        String body = "{" + " ".repeat(12) + "}";
        try (RawHttps slow = connect(server.ingestPort())) {
            slow.head("POST", "/agent/v1/jobs/" + job + "/heartbeat", "Content-Type: application/json",
                    "Authorization: Bearer " + creds.getString("agentKey"), "Content-Length: " + body.length());
            for (byte c : body.getBytes(StandardCharsets.US_ASCII)) {
                slow.write(new byte[] {c});
                Thread.sleep(IDLE_SECONDS * 1000L / 6);
            }
            String head = slow.readHead();
            assertNotNull(head, "a slow upload that keeps going is not cut");
            assertEquals(200, RawHttps.status(head), head);
        }
    }

    /** Every JSON endpoint: `null`, arrays, numbers and strings are 400; a non-JSON type is 415. */
    @Test
    void everyJsonEndpointRefusesBodiesThatAreNotObjectsAndNonJsonTypes() {
        CaptureHarness.awaitBound(server, job);
        JsonObject before = CaptureHarness.job(server, "hardening-test");
        String agentKey = creds.getString("agentKey");
        String admin = creds.getString("adminToken");
        List<String[]> endpoints = List.of(
                new String[] {"ingest", "POST", "/agent/v1/register", agentKey},
                new String[] {"ingest", "POST", "/agent/v1/jobs/" + job + "/heartbeat", agentKey},
                new String[] {"ingest", "POST", "/agent/v1/jobs/" + job + "/resync-required", agentKey},
                new String[] {"ingest", "POST", "/agent/v1/jobs/" + job + "/sync/begin", agentKey},
                new String[] {"ingest", "POST", "/agent/v1/jobs/" + job + "/sync/1/end", agentKey},
                new String[] {"api", "POST", "/api/v1/keys", admin},
                new String[] {"api", "PUT", "/api/v1/jobs/" + job + "/policy", admin},
                new String[] {"api", "POST", "/api/v1/jobs/" + job + "/groom", admin},
                new String[] {"api", "POST", "/api/v1/jobs/" + job + "/snapshots", admin},
                new String[] {"api", "POST", "/api/v1/jobs/" + job + "/restores", admin},
                new String[] {"api", "POST", "/api/v1/jobs/" + job + "/resync", admin});
        for (String[] e : endpoints) {
            for (String body : List.of("null", "[]", "[{}]", "5", "\"text\"", "true")) {
                JsonObject reply = send(e, body, "application/json");
                assertEquals(400, reply.getInteger("status"), e[2] + " " + body + ": " + reply.encode());
                assertTrue(reply.getString("error").contains("must be a JSON object"), reply.encode());
            }
            JsonObject text = send(e, "{}", "text/plain");
            assertEquals(415, text.getInteger("status"), e[2] + " text/plain: " + text.encode());
        }
        JsonObject after = CaptureHarness.job(server, "hardening-test");
        after.remove("agent");
        before.remove("agent");
        assertEquals(before, after, "nothing changed");
    }

    @Test
    void fieldsAreBoundedAndTyped() {
        String agentKey = creds.getString("agentKey");
        String[] heartbeat = {"ingest", "POST", "/agent/v1/jobs/" + job + "/heartbeat", agentKey};
        JsonObject before = CaptureHarness.job(server, "hardening-test").getJsonObject("agent");
        for (JsonObject bad : List.of(
                new JsonObject().put("hostname", "h".repeat(1_000_000)),
                new JsonObject().put("hostname", "h".repeat(256)),
                new JsonObject().put("agentVersion", "v".repeat(65)),
                new JsonObject().put("hostname", 5),
                new JsonObject().put("lagSeconds", "soon"),
                new JsonObject().put("lagSeconds", -1),
                new JsonObject().put("lagSeconds", 1e300),
                new JsonObject().put("sourceTs", new JsonObject().put("t", 1)),
                new JsonObject().put("sourceTs", new JsonObject().put("t", 1.5).put("i", 1)),
                new JsonObject().put("sourceTs", new JsonObject().put("t", 1).put("i", 1).put("x", new JsonObject())))) {
            JsonObject reply = send(heartbeat, bad.encode(), "application/json");
            assertEquals(400, reply.getInteger("status"), bad.encode().substring(0, Math.min(80, bad.encode().length())));
        }
        assertEquals(before, CaptureHarness.job(server, "hardening-test").getJsonObject("agent"), "no heartbeat was stored");
        JsonObject deep = new JsonObject();
        for (int i = 0; i < 50; i++) {
            deep = new JsonObject().put("reason", deep);
        }
        assertEquals(400, send(new String[] {"ingest", "POST", "/agent/v1/jobs/" + job + "/resync-required", agentKey},
                deep.encode(), "application/json").getInteger("status"));
        assertEquals(400, send(new String[] {"ingest", "POST", "/agent/v1/jobs/" + job + "/oplog?prev=not-a-position", agentKey},
                "", "application/bson").getInteger("status"));
        assertEquals(400, send(new String[] {"ingest", "POST", "/agent/v1/jobs/" + job + "/oplog?prev=99999999999:1", agentKey},
                "", "application/bson").getInteger("status"));
        assertEquals("INITIAL_SYNC", CaptureHarness.job(server, "hardening-test").getString("state"));
    }

    @Test
    void aPushRestoreToAnUnparseableUriIsRefusedAtCreation() {
        JsonObject reply = send(new String[] {"api", "POST", "/api/v1/jobs/" + job + "/restores", creds.getString("adminToken")},
                new JsonObject().put("atTs", "1700000000:1").put("delivery", "push").put("target", "not-a-uri").encode(),
                "application/json");
        assertEquals(400, reply.getInteger("status"), reply.encode());
        assertTrue(reply.getString("error").contains("'target'"), reply.encode());
        assertFalse(reply.encode().contains("not-a-uri"), "the URI (it may hold a password) is not repeated");
    }

    /** {@code endpoint}: server, method, path, bearer token. */
    private static JsonObject send(String[] endpoint, String body, String contentType) {
        var http = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setSsl(true).setVerifyHost(false)
                .setTrustOptions(io.vertx.core.net.TrustOptions.wrap(
                        new io.tidemark.shared.security.PinnedCertificateTrust(creds.getString("certificateSha256")))));
        String base = endpoint[0].equals("ingest") ? server.ingestUrl() : server.apiUrl() + "/api/v1";
        String path = endpoint[0].equals("ingest") ? endpoint[2] : endpoint[2].substring("/api/v1".length());
        var req = new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.valueOf(endpoint[1]))
                .setAbsoluteURI(base + path).putHeader("Content-Type", contentType)
                .putHeader("Authorization", "Bearer " + endpoint[3]).setTimeout(20_000);
        try {
            return CaptureHarness.join(http.request(req).compose(r -> r.send(body)).compose(resp -> resp.body()
                    .map(b -> (b.length() == 0 ? new JsonObject() : b.toJsonObject()).put("status", resp.statusCode()))));
        } finally {
            http.close();
        }
    }
}
