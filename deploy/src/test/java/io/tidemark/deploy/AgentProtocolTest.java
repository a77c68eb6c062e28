package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.agent.IngestRejection;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.vertx.core.Future;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.TrustOptions;
import io.tidemark.shared.security.PinnedCertificateTrust;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Backup HTTP service's edges: TLS and auth failures, malformed, oversized, out-of-order and
 * misdirected input. Every refusal is a clear 4xx and leaves the stores as they were.
 */
class AgentProtocolTest {

    private static final int MAX_BODY = 256 * 1024;
    private static final OpTime START = new OpTime(1_700_000_000L, 1);

    @TempDir
    static Path dataDir;

    static TidemarkServer server;
    static Vertx vertx;
    static IngestClient agent;
    static JsonObject creds;
    static String job;

    @BeforeAll
    static void start() {
        server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of("TIDEMARK_INGEST_MAXBODYBYTES", String.valueOf(MAX_BODY))));
        vertx = VertxFactory.create();
        creds = CredentialsFile.read(server.config().dataPath());
        newAgent();
        job = get(agent.register("protocol-test", "host")).getString("job");
        get(agent.beginSync(job, START, START));
    }

    /** Each test gets fresh connections: these tests send refused and malformed requests on purpose. */
    @org.junit.jupiter.api.BeforeEach
    void freshAgent() {
        agent.close();
        newAgent();
    }

    private static void newAgent() {
        agent = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"), creds.getString("certificateSha256"), null);
    }

    @AfterAll
    static void stop() {
        agent.close();
        vertx.close();
        server.close();
    }

    @Test
    void aGoodBatchIsAcknowledgedAndAResentOneIsAcknowledgedAgainWithoutBeingStoredTwice() {
        OpTime tip = storedTip();
        OpTime a = next(tip, 1);
        OpTime b = next(tip, 2);
        Buffer body = entries(a, b);
        assertEquals(b, get(agent.sendOplog(job, tip, body)));
        assertEquals(b, get(agent.sendOplog(job, tip, body)), "a resent batch is acknowledged again");
        assertEquals(b, storedTip());
        assertEquals(2, CaptureHarness.storedEntries(server.stores().oplog(), job, START).stream()
                .filter(e -> {
                    OpTime ts = OpTime.of(new RawBsonDocument(e).getTimestamp("ts"));
                    return ts.equals(a) || ts.equals(b);
                }).count(), "each entry is stored once");
    }

    @Test
    void aBatchThatLeavesAGapIsRefusedWithTheStoredPosition() {
        OpTime tip = storedTip();
        IngestRejection r = rejected(agent.sendOplog(job, next(tip, 5), entries(next(tip, 6))));
        assertEquals(409, r.status());
        assertTrue(r.getMessage().contains("gap"), r.getMessage());
        assertEquals(tip.toJson(), r.body().getJsonObject("storedTs"));
        assertEquals(tip, storedTip());
    }

    @Test
    void entriesThatGoBackwardsAreRefused() {
        OpTime tip = storedTip();
        IngestRejection r = rejected(agent.sendOplog(job, tip, entries(next(tip, 3), next(tip, 2))));
        assertEquals(400, r.status());
        assertTrue(r.getMessage().contains("strictly increasing"), r.getMessage());
        IngestRejection notAfter = rejected(agent.sendOplog(job, tip, entries(tip)));
        assertEquals(400, notAfter.status());
        assertEquals(tip, storedTip());
    }

    @Test
    void malformedBsonIsRefusedAndNothingIsStored() {
        OpTime tip = storedTip();
        byte[] good = entries(next(tip, 1)).getBytes();
        byte[] truncated = java.util.Arrays.copyOf(good, good.length - 3);
        assertEquals(400, rejected(agent.sendOplog(job, tip, Buffer.buffer(truncated))).status());
        byte[] badLength = good.clone();
        badLength[0] = (byte) 0xFF;
        assertEquals(400, rejected(agent.sendOplog(job, tip, Buffer.buffer(badLength))).status());
        byte[] badType = good.clone();
        badType[4] = 0x77;
        IngestRejection r = rejected(agent.sendOplog(job, tip, Buffer.buffer(badType)));
        assertEquals(400, r.status());
        assertTrue(r.getMessage().contains("malformed BSON"), r.getMessage());
        RawBsonDocument notAnEntry = doc(new BsonDocument("x", new BsonInt32(1)));
        assertEquals(400, rejected(agent.sendOplog(job, tip, bytes(notAnEntry))).status());
        assertEquals(tip, storedTip());
    }

    @Test
    void anOversizedBodyIsRefusedWith413() {
        OpTime tip = storedTip();
        String big = "x".repeat(MAX_BODY);
        Buffer body = bytes(doc(entry(next(tip, 1)).append("pad", new BsonString(big))));
        assertEquals(413, rejected(agent.sendOplog(job, tip, body)).status());
        assertEquals(tip, storedTip());
    }

    @Test
    void aConnectionThatCarriedAnOversizedBodyKeepsAnswering() {
        // One pooled connection, so the requests after the refused body must travel on it.
        HttpClient http = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(false).setKeepAlive(true)
                        .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(creds.getString("certificateSha256")))),
                new io.vertx.core.http.PoolOptions().setHttp1MaxSize(1));
        try {
            OpTime tip = storedTip();
            Buffer big = bytes(doc(entry(next(tip, 1)).append("pad", new BsonString("x".repeat(MAX_BODY * 2)))));
            assertEquals(413, status(http, HttpMethod.POST, "/agent/v1/jobs/" + job + "/oplog?prev=" + tip, big, "application/bson"));
            for (int i = 0; i < 3; i++) {
                assertEquals(200, status(http, HttpMethod.POST, "/agent/v1/jobs/" + job + "/heartbeat",
                        new JsonObject().toBuffer(), "application/json"));
            }
        } finally {
            http.close();
        }
    }

    private static int status(HttpClient http, HttpMethod method, String path, Buffer body, String type) {
        RequestOptions req = new RequestOptions().setMethod(method).setAbsoluteURI(server.ingestUrl() + path)
                .putHeader("Content-Type", type).putHeader("Authorization", "Bearer " + creds.getString("agentKey"))
                .setTimeout(10_000);
        return get(http.request(req).compose(r -> r.send(body)).compose(resp -> resp.body().map(b -> resp.statusCode())));
    }

    @Test
    void anUnknownJobIs404AndUnknownKeysAre400() {
        IngestRejection unknown = rejected(agent.sendOplog("no-such-job", START, entries(next(START, 1))));
        assertEquals(404, unknown.status());
        IngestRejection slice = rejected(agent.putSlice("no-such-job", 1, "db.c", 0, bytes(doc(new BsonDocument("_id", new BsonInt32(1))))));
        assertEquals(404, slice.status());
        JsonObject reply = raw(HttpMethod.POST, "/agent/v1/register", creds.getString("agentKey"),
                new JsonObject().put("deployment", "x").put("colour", "blue").toBuffer(), "application/json");
        assertEquals(400, reply.getInteger("status"));
        assertTrue(reply.getString("error").contains("unknown keys [colour]"), reply.encode());
    }

    @Test
    void aSliceForAStaleSyncGenerationIsRefused() {
        IngestRejection r = rejected(agent.putSlice(job, 99, "db.c", 0, bytes(doc(new BsonDocument("_id", new BsonInt32(1))))));
        assertEquals(409, r.status());
        assertTrue(r.getMessage().contains("not running"), r.getMessage());
    }

    @Test
    void requestsWithoutAValidAgentKeyAre401() {
        Buffer body = new JsonObject().put("deployment", "intruder").toBuffer();
        assertEquals(401, raw(HttpMethod.POST, "/agent/v1/register", null, body, "application/json").getInteger("status"));
        assertEquals(401, raw(HttpMethod.POST, "/agent/v1/register", "tmg_000000000000_notakey", body, "application/json").getInteger("status"));
        assertEquals(401, raw(HttpMethod.POST, "/agent/v1/register", creds.getString("adminToken"), body, "application/json")
                .getInteger("status"), "an admin token is not an agent key");
        assertTrue(CaptureHarness.job(server, "intruder").isEmpty(), "nothing was registered");
    }

    @Test
    void aRevokedAgentKeyStopsWorking() {
        AdminClient admin = new AdminClient(server.config().dataPath(), server.apiUrl(), creds.getString("adminToken"),
                creds.getString("certificateSha256"));
        try (admin) {
            JsonObject key = admin.post("/keys", new JsonObject().put("kind", "agent").put("name", "short-lived"));
            String token = key.getString("token");
            IngestClient client = new IngestClient(vertx, server.ingestUrl(), token, creds.getString("certificateSha256"), null);
            assertNotNull(get(client.register("revocation-test", "h")).getString("job"));
            admin.delete("/keys/" + key.getString("id"));
            assertEquals(401, rejected(client.register("revocation-test", "h")).status());
            client.close();
        }
    }

    @Test
    void anAgentThatDoesNotTrustTheServersCertificateSendsNothing() {
        IngestClient wrongPin = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"), "00".repeat(32), null);
        Exception e = assertThrows(Exception.class, () -> get(wrongPin.register("tls-test", "h")));
        assertTrue(String.valueOf(e.getMessage()).toLowerCase().contains("certificate")
                || e.getCause() != null && String.valueOf(e.getCause()).toLowerCase().contains("ssl"), String.valueOf(e));
        IngestClient systemTrust = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"), null, null);
        assertThrows(Exception.class, () -> get(systemTrust.register("tls-test", "h")), "a self-signed certificate is not trusted by default");
        IngestClient caFile = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"), null,
                Path.of(creds.getString("certificateFile")));
        assertNotNull(get(caFile.register("tls-test", "h")).getString("job"), "trusting the certificate file works");
        wrongPin.close();
        systemTrust.close();
        caFile.close();
        assertThrows(IllegalArgumentException.class, () -> new IngestClient(vertx, "http://127.0.0.1:1", "k", null, null));
    }

    @Test
    void theRestApiNeedsAnAdminTokenAndReportsJobs() {
        AdminClient anonymous = new AdminClient(server.config().dataPath(), server.apiUrl(), "tma_000000000000_wrong",
                creds.getString("certificateSha256"));
        try (anonymous) {
            CliException e = assertThrows(CliException.class, () -> anonymous.get("/jobs"));
            assertTrue(e.getMessage().contains("unknown or revoked"), e.getMessage());
        }
        try (AdminClient admin = new AdminClient(server.config().dataPath(), null, null, null)) {
            JsonObject found = admin.get("/jobs/protocol-test");
            assertEquals(job, found.getString("id"));
            assertEquals("INITIAL_SYNC", found.getString("state"));
            assertNotNull(found.getJsonObject("storedTs"));
        }
    }

    private static OpTime storedTip() {
        return OpTime.fromJson(get(agent.heartbeat(job, new JsonObject())).getJsonObject("storedTs"));
    }

    private static OpTime next(OpTime t, int n) {
        return new OpTime(t.seconds(), t.increment() + n);
    }

    private static BsonDocument entry(OpTime ts) {
        return new BsonDocument("ts", ts.toBson()).append("op", new BsonString("n")).append("ns", new BsonString(""))
                .append("o", new BsonDocument("msg", new BsonString("periodic noop")));
    }

    private static Buffer entries(OpTime... ts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (OpTime t : ts) {
            out.writeBytes(CaptureHarness.bytes(doc(entry(t))));
        }
        return Buffer.buffer(out.toByteArray());
    }

    private static RawBsonDocument doc(BsonDocument d) {
        return RawBsonDocument.parse(d.toJson());
    }

    private static Buffer bytes(RawBsonDocument d) {
        return Buffer.buffer(CaptureHarness.bytes(d));
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static IngestRejection rejected(Future<?> f) {
        return assertThrows(IngestRejection.class, () -> get(f));
    }

    /** A request outside the client, for what the client itself would never send. */
    private static JsonObject raw(HttpMethod method, String path, String token, Buffer body, String type) {
        HttpClient http = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(false)
                .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(creds.getString("certificateSha256")))));
        RequestOptions req = new RequestOptions().setMethod(method).setAbsoluteURI(server.ingestUrl() + path)
                .putHeader("Content-Type", type);
        if (token != null) {
            req.putHeader("Authorization", "Bearer " + token);
        }
        try {
            return get(http.request(req).compose(r -> r.send(body)).compose(resp -> resp.body()
                    .map(b -> b.toJsonObject().put("status", resp.statusCode()))));
        } finally {
            http.close();
        }
    }
}
