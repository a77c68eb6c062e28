package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.restore.archive.StrictArchiveReader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.tidemark.shared.testing.LogWatch;
import io.tidemark.shared.testing.SmallDisk;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.TrustOptions;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server's whole data dir (store, heads, blocks) on a small tmpfs that the test fills while an
 * agent backs up a live source: writes are refused with 503 and Retry-After, /health says DOWN and
 * why, the log stays short, and once the filler is deleted the server recovers by itself (no
 * restart) and nothing is lost. Skipped where a tmpfs cannot be mounted (not root).
 */
class DiskFullTest {

    private static final String DEPLOYMENT = "full-disk";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private final List<Agent> agents = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void stopAgents() {
        agents.forEach(Agent::stop);
    }

    @Test
    void aFullDiskIsRefusedReportedAndSurvivedWithoutARestart() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(tmp.resolve("disk"), 96)) {
            Path dataDir = disk.path().resolve("data");
            Vertx clientVertx = VertxFactory.create();
            try (MongoShapedSource source = new MongoShapedSource();
                 // The thresholds are another test's subject; here the disk really fills.
                 TidemarkServer server = startServer(dataDir, 0)) {
                JsonObject creds = CredentialsFile.read(server.config().dataPath());
                HttpClient http = pinnedClient(clientVertx, creds);
                DemoDataset data = new DemoDataset();
                data.load(source, 200, 50, 500, 200);
                DemoWorkload load = new DemoWorkload(source, data, 200, 50);
                Agent agent = backUp(server, source);
                String jobId = job(server, DEPLOYMENT).getString("_id");
                assertEquals("complete", new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", DEPLOYMENT,
                        "--wait", "--json")).getString("status"));

                // A steady write load throughout, as a live source has.
                AtomicBoolean writing = new AtomicBoolean(true);
                AtomicLong writes = new AtomicLong();
                Thread writer = new Thread(() -> {
                    while (writing.get()) {
                        load.one().block();
                        writes.incrementAndGet();
                        sleep(20);
                    }
                }, "disk-full-test-writes");
                writer.start();
                try {
                    sleep(500);
                    disk.fill();
                    long linesBefore = LogWatch.printedLines();
                    long degradedFrom = System.nanoTime();
                    await("/health to say DOWN", WAIT, () -> call(http, server.apiUrl(), HttpMethod.GET, "/health", null, null).status == 503);
                    Reply health = call(http, server.apiUrl(), HttpMethod.GET, "/health", null, null);
                    assertEquals("DOWN", health.body.getString("status"), health.body.encode());
                    assertTrue(health.body.getString("error").contains("disk full") || health.body.getString("error").contains("not writable"),
                            health.body.encode());

                    Reply snapshot = call(http, server.apiUrl(), HttpMethod.POST, "/api/v1/jobs/" + jobId + "/snapshots",
                            creds.getString("adminToken"), new JsonObject().put("wait", true));
                    assertEquals(503, snapshot.status, snapshot.body.encode());
                    assertNotNull(snapshot.retryAfter, "a 503 says when to retry");
                    assertFalse(snapshot.body.encode().contains("Exception"), "no internal text: " + snapshot.body.encode());

                    // The agent's writes: an oplog batch or heartbeat that needs the store.
                    await("the Backup HTTP service to refuse writes with 503", WAIT, () -> call(http, server.ingestUrl(),
                            HttpMethod.POST, "/agent/v1/jobs/" + jobId + "/heartbeat", creds.getString("agentKey"), new JsonObject()).status == 503);
                    Reply heartbeat = call(http, server.ingestUrl(), HttpMethod.POST, "/agent/v1/jobs/" + jobId + "/heartbeat",
                            creds.getString("agentKey"), new JsonObject());
                    assertEquals(503, heartbeat.status, heartbeat.body.encode());
                    assertNotNull(heartbeat.retryAfter);
                    assertTrue(heartbeat.body.getString("error").startsWith("storage unavailable"), heartbeat.body.encode());

                    // Stay degraded a while under the load (the agent retrying, the head runner retrying,
                    // /health polled) and count what the log said meanwhile.
                    while (System.nanoTime() - degradedFrom < Duration.ofSeconds(12).toNanos()) {
                        call(http, server.apiUrl(), HttpMethod.GET, "/health", null, null);
                        sleep(200);
                    }
                    long degradedLines = LogWatch.printedLines() - linesBefore;
                    assertTrue(degradedLines < 20, degradedLines + " log lines in 12 s of a full disk: one per cause and interval");
                    System.out.println("full disk: " + degradedLines + " log lines in 12 s degraded");

                    disk.release();
                    await("/health to say UP again without a restart", WAIT,
                            () -> call(http, server.apiUrl(), HttpMethod.GET, "/health", null, null).status == 200);
                    long before = writes.get();
                    await("the source to keep changing", WAIT, () -> writes.get() > before + 20);
                } finally {
                    writing.set(false);
                    writer.join();
                }
                OpTime last = source.latestTs();
                await("the agent to store every write made during and after the full disk", WAIT, () -> last.equals(agent.acked()));
                awaitApplied(server, last);
                JsonObject after = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", DEPLOYMENT, "--wait", "--json"));
                assertEquals("complete", after.getString("status"), after.encode());
                assertEquals(last.toJson(), after.getJsonObject("ts"));

                // Nothing lost: every source entry stored once, the head equal to the source, every
                // block readable, and the snapshot restores equal to the source.
                CaptureHarness.assertExactlyOnceInOrder(com.mongodb.reactivestreams.client.MongoClients.create(source.uri()), server, DEPLOYMENT);
                assertEquals(0, TidemarkCli.run("verify", "--job", DEPLOYMENT, "--source", source.uri(),
                        "--data-dir", dataDir.toString(), "--timeout", "60"), "tidemark verify");
                assertTrue(CliRun.okIn(dataDir, "check", "--job", DEPLOYMENT, "--read-data").contains("OK"));
                Path out = tmp.resolve("restored.archive");
                CliRun.okIn(dataDir, "restore", "--job", DEPLOYMENT, "--snapshot", after.getString("snapshotId"),
                        "--out", out.toString(), "--json");
                assertArchiveEqualsSource(StrictArchiveReader.read(Files.readAllBytes(out)), source);
                agents.remove(agent);
                agent.stop();
                load.close();
                http.close();
            } finally {
                clientVertx.close();
            }
        }
    }

    @Test
    void belowTheFreeSpaceThresholdNoNewSnapshotStartsWhileIngestGoesOn() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(tmp.resolve("disk"), 64)) {
            Path dataDir = disk.path().resolve("data");
            Vertx clientVertx = VertxFactory.create();
            long threshold = 24L << 20;
            try (MongoShapedSource source = new MongoShapedSource();
                 TidemarkServer server = startServer(dataDir, threshold)) {
                JsonObject creds = CredentialsFile.read(server.config().dataPath());
                HttpClient http = pinnedClient(clientVertx, creds);
                DemoDataset data = new DemoDataset();
                data.load(source, 100, 20, 200, 100);
                DemoWorkload load = new DemoWorkload(source, data, 100, 20);
                Agent agent = backUp(server, source);
                String jobId = job(server, DEPLOYMENT).getString("_id");

                disk.fillLeaving(threshold / 2);
                await("/health to report low space", WAIT, () -> call(http, server.apiUrl(), HttpMethod.GET, "/health", null, null)
                        .body.containsKey("lowSpace"));
                Reply health = call(http, server.apiUrl(), HttpMethod.GET, "/health", null, null);
                assertEquals(200, health.status, "low is not full: the server still works " + health.body.encode());
                long blocksBefore = bytesUnder(server.config().blocksPath());
                Reply refused = call(http, server.apiUrl(), HttpMethod.POST, "/api/v1/jobs/" + jobId + "/snapshots",
                        creds.getString("adminToken"), new JsonObject().put("wait", true));
                assertEquals(503, refused.status, refused.body.encode());
                assertNotNull(refused.retryAfter);
                assertTrue(refused.body.getString("error").contains("low on space")
                        && refused.body.getString("error").contains("storage.minFreeBytes"), refused.body.encode());
                assertEquals(blocksBefore, bytesUnder(server.config().blocksPath()), "a refused snapshot writes no block");
                assertEquals(0, new io.vertx.core.json.JsonArray(CliRun.okIn(dataDir, "snapshots", "list", "--job", DEPLOYMENT,
                        "--json")).size(), "no snapshot was recorded");

                // The oplog is the source of truth for point-in-time restores: its ingest goes on.
                for (int i = 0; i < 20; i++) {
                    load.one().block();
                }
                OpTime moved = source.latestTs();
                await("the agent to store the new writes while space is low", WAIT, () -> moved.equals(agent.acked()));

                disk.release();
                await("/health to stop reporting low space", WAIT, () -> !call(http, server.apiUrl(), HttpMethod.GET, "/health",
                        null, null).body.containsKey("lowSpace"));
                awaitApplied(server, moved);
                assertEquals("complete", new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", DEPLOYMENT,
                        "--wait", "--json")).getString("status"));
                agents.remove(agent);
                agent.stop();
                load.close();
                http.close();
            } finally {
                clientVertx.close();
            }
        }
    }

    /** A server probing every second, with {@code minFreeBytes} as its only threshold and small memtables for a small disk. */
    private static TidemarkServer startServer(Path dataDir, long minFreeBytes) {
        return TidemarkServer.start(CaptureHarness.config(dataDir, Map.of("TIDEMARK_STORAGE_PROBESECONDS", "1",
                "TIDEMARK_STORAGE_MINFREEBYTES", Long.toString(minFreeBytes), "TIDEMARK_STORAGE_MINFREEPERCENT", "0",
                "TIDEMARK_HEADS_MEMTABLEBYTES", "8388608")));
    }

    /** An agent backing up {@code source}, once the head has applied all it holds; stopped after the test. */
    private Agent backUp(TidemarkServer server, MongoShapedSource source) {
        Agent agent = CaptureHarness.startAgent(server, source.uri(), DEPLOYMENT);
        agents.add(agent);
        awaitApplied(server, source.latestTs());
        return agent;
    }

    /** Trusts the server by its pinned certificate; a connection per request, as a probe would. */
    private static HttpClient pinnedClient(Vertx vertx, JsonObject creds) {
        return vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(false)
                .setKeepAlive(false).setConnectTimeout(10_000)
                .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(creds.getString("certificateSha256")))));
    }

    private static long bytesUnder(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static void awaitApplied(TidemarkServer server, OpTime ts) {
        await("the head to apply up to " + ts, WAIT, () -> {
            JsonObject j = job(server, DEPLOYMENT);
            return j.containsKey("appliedTs") && ts.equals(OpTime.fromJson(j.getJsonObject("appliedTs")));
        });
    }

    private static void assertArchiveEqualsSource(StrictArchiveReader.Archive archive, MongoShapedSource source) {
        for (String ns : source.namespaces()) {
            Comparator<byte[]> byId = Comparator.comparing(d -> new RawBsonDocument(d).get("_id").toString());
            List<byte[]> expected = source.documents(ns).stream().map(CaptureHarness::bytes).sorted(byId).toList();
            List<byte[]> got = archive.data(ns).documents.stream().sorted(byId).toList();
            assertEquals(expected.size(), got.size(), ns + " document count");
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), ns + " document " + i);
            }
        }
    }

    private record Reply(int status, JsonObject body, String retryAfter) {
    }

    private static Reply call(HttpClient http, String base, HttpMethod method, String path, String token, JsonObject body) {
        RequestOptions req = new RequestOptions().setMethod(method).setAbsoluteURI(base + path).setIdleTimeout(20_000)
                .putHeader("Content-Type", "application/json");
        if (token != null) {
            req.putHeader("Authorization", "Bearer " + token);
        }
        return CaptureHarness.join(http.request(req).compose(r -> r.send(body == null ? Buffer.buffer() : body.toBuffer()))
                .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(),
                        b.length() == 0 ? new JsonObject() : b.toJsonObject(), resp.getHeader("Retry-After")))));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
