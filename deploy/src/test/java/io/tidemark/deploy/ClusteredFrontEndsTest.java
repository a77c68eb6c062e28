package io.tidemark.deploy;

import com.mongodb.reactivestreams.client.MongoClient;
import io.tidemark.agent.Agent;
import io.tidemark.agent.AgentSettings;
import io.tidemark.agent.IngestClient;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.testing.ChildJvm;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.TrustOptions;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several {@code tidemark server} processes (real JVMs on loopback) sharing one metadata and
 * blockstore DB (a store this test runs), each a front end and a daemon: A and B clustered over
 * Hazelcast, and C with the bus on but no member it can reach. New jobs go to B's daemon unless a
 * test says otherwise (the daemons' {@code assignment} switches). Shows that a batch stored
 * through A wakes the head of B's job at once while C's job converges by polling alone
 * (docs/scale-out.md, "Clustered event bus"), that a snapshot asked of A reaches the daemon that
 * owns the job every time, and that the front ends are stateless: one agent sending to A and B in
 * turn stores its oplog exactly, a key revoked through A is refused by B, and a download link made
 * on A works once on B ("Stateless front ends").
 */
class ClusteredFrontEndsTest {

    private static final String MAIN = TidemarkCli.class.getName();
    private static final Duration START = Duration.ofSeconds(120);
    /** The heads' scan interval (ApplierVerticle): the bound a head without the bus converges in. */
    private static final long POLL_MILLIS = 2_000;
    /** How soon a revocation counts on every front end, whatever happens to the bus. */
    private static final Duration REVOCATION_BOUND = Duration.ofSeconds(5);

    @TempDir
    static Path work;

    private static EmbeddedMongo store;
    private static final List<Process> servers = new ArrayList<>();
    private static Node a;
    private static Node b;
    private static Node c;
    private static JsonObject creds;
    private static final Vertx vertx = VertxFactory.create();
    private static HttpClient http;
    private static Stores stores;

    /** One server process: its data dir and ports. */
    private record Node(String name, Path dataDir, int ingestPort, int apiPort) {
        String ingestUrl() {
            return "https://127.0.0.1:" + ingestPort;
        }

        String apiUrl() {
            return "https://127.0.0.1:" + apiPort;
        }
    }

    @BeforeAll
    static void startCluster() throws Exception {
        store = EmbeddedMongo.inMemoryWithOplog();
        int portA = CaptureHarness.freePort();
        int portB = CaptureHarness.freePort();
        String members = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
        // The first server makes the TLS material and the credentials; the others present the
        // same certificate, as front ends behind one load balancer name do.
        a = node("a", portA, members, null);
        Process pa = start(a);
        awaitUp(pa, a);
        Path tls = a.dataDir().resolve("tls");
        b = node("b", portB, members, tls);
        c = node("c", CaptureHarness.freePort(), "127.0.0.1:" + CaptureHarness.freePort(), tls);
        Process pb = start(b);
        Process pc = start(c);
        awaitUp(pb, b);
        awaitUp(pc, c);
        creds = CredentialsFile.read(a.dataDir());
        http = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(false)
                .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(creds.getString("certificateSha256")))));
        TidemarkConfig shared = CaptureHarness.config(work.resolve("reader"), Map.of(
                "TIDEMARK_MONGODB_METADATAURI", store.uri() + "/tidemark",
                "TIDEMARK_MONGODB_BLOCKSTOREURI", store.uri() + "/tidemark_blockstore"));
        stores = CaptureHarness.join(Stores.open(vertx, shared));
        assignNewJobsTo(b);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        for (Process p : servers) {
            p.destroy();
        }
        for (Process p : servers) {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
        if (stores != null) {
            stores.close();
        }
        vertx.close();
        if (store != null) {
            store.close();
        }
    }

    @Test
    void aBatchStoredThroughOneFrontEndWakesTheHeadsOfTheOthers() throws Exception {
        try (MongoShapedSource sourceB = new MongoShapedSource(); MongoShapedSource sourceC = new MongoShapedSource()) {
            sourceB.insertMany("shop.wake", List.of(new Document("_id", 0)));
            sourceC.insertMany("shop.wake", List.of(new Document("_id", 0)));
            // Both through A only: B's daemon hears of each batch on the bus, C's (bus unreachable)
            // only by polling.
            Agent agentB = startAgent(sourceB, "wake-b", a.ingestUrl());
            String jobB = awaitBoundTo("wake-b", b);
            assignNewJobsTo(c);
            Agent agentC;
            String jobC;
            try {
                agentC = startAgent(sourceC, "wake-c", a.ingestUrl());
                jobC = awaitBoundTo("wake-c", c);
            } finally {
                assignNewJobsTo(b);
            }
            try {
                awaitActiveJob("wake-b");
                awaitActiveJob("wake-c");
                // Both heads have opened once they apply a write (a head opened later would miss one).
                int[] probes = {0};
                CaptureHarness.await("the heads of B and C to apply writes", START, () -> {
                    if (applied(b, jobB) > 0 && applied(c, jobC) > 0) {
                        return true;
                    }
                    sourceB.insertMany("shop.wake", List.of(new Document("_id", -(++probes[0]))));
                    sourceC.insertMany("shop.wake", List.of(new Document("_id", -probes[0])));
                    sleep(300);
                    return false;
                });
                long[] bus = new long[7];
                long[] polling = new long[bus.length];
                for (int i = 0; i < bus.length; i++) {
                    // A pause of varying length, so the writes fall at different points of C's scan.
                    Thread.sleep(200 + 170L * i);
                    double beforeB = applied(b, jobB);
                    double beforeC = applied(c, jobC);
                    long t0 = System.nanoTime();
                    sourceB.insertMany("shop.wake", List.of(new Document("_id", 1 + i)));
                    sourceC.insertMany("shop.wake", List.of(new Document("_id", 1 + i)));
                    long tb = -1;
                    long tc = -1;
                    long deadline = t0 + TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS + 8_000);
                    while ((tb < 0 || tc < 0) && System.nanoTime() < deadline) {
                        if (tb < 0 && applied(b, jobB) > beforeB) {
                            tb = System.nanoTime() - t0;
                        }
                        if (tc < 0 && applied(c, jobC) > beforeC) {
                            tc = System.nanoTime() - t0;
                        }
                        Thread.sleep(10);
                    }
                    assertTrue(tb > 0, "B applied write " + i + " within the polling bound and some slack");
                    assertTrue(tc > 0, "C, cut off from the bus, applied write " + i + " within the polling bound and some slack");
                    bus[i] = tb / 1_000_000;
                    polling[i] = tc / 1_000_000;
                }
                long busMean = java.util.Arrays.stream(bus).sum() / bus.length;
                long pollingMean = java.util.Arrays.stream(polling).sum() / polling.length;
                System.out.println("scale-out wake latency, ms (source write to head applied): bus "
                        + java.util.Arrays.toString(bus) + " median " + median(bus) + " mean " + busMean + "; polling only "
                        + java.util.Arrays.toString(polling) + " median " + median(polling) + " mean " + pollingMean);
                // Polling alone waits for the next scan, uniformly up to 2 s (a mean near 1 s plus
                // the apply); the mean of several writes, not one, tells the bus apart from luck.
                assertTrue(busMean * 3 < pollingMean * 2, "a head woken by the bus applies well before one that polls: bus mean "
                        + busMean + " ms, polling mean " + pollingMean + " ms");
            } finally {
                agentB.stop();
                agentC.stop();
            }
        }
    }

    @Test
    void oneAgentSendingToTwoFrontEndsInTurnStoresItsOplogExactly() throws Exception {
        try (MongoShapedSource source = new MongoShapedSource()) {
            DemoDataset data = new DemoDataset();
            data.load(source, 100, 30, 200, 100);
            try (SourceHistory history = new SourceHistory(source);
                 SteadyLoad load = new SteadyLoad(new DemoWorkload(source, data, 100, 30), history)) {
                Agent agent = startAgent(source, "alternate", a.ingestUrl() + "," + b.ingestUrl());
                try {
                    String job = awaitActiveJob("alternate");
                    double storedA = stored(a, job);
                    double storedB = stored(b, job);
                    load.start();
                    Thread.sleep(6_000);
                    load.close();
                    OpTime last = history.latest();
                    CaptureHarness.await("the agent to have the whole load acknowledged", START,
                            () -> agent.acked() != null && !last.isAfter(agent.acked()));
                    assertTrue(stored(a, job) > storedA && stored(b, job) > storedB,
                            "both front ends stored some of the batches");
                } finally {
                    agent.stop();
                }
                try (MongoClient reactive = CaptureHarness.client(source.uri())) {
                    CaptureHarness.assertExactlyOnceInOrder(reactive, stores, "alternate", null);
                }
            }
        }
    }

    @Test
    void aKeyRevokedThroughOneFrontEndIsRefusedByTheOther() {
        try (AdminClient adminA = admin(a); AdminClient adminB = admin(b)) {
            JsonObject key = adminA.post("/keys", new JsonObject().put("kind", "agent").put("name", "revoked-across")
                    .put("deployments", new io.vertx.core.json.JsonArray().add("across")));
            IngestClient onB = new IngestClient(vertx, b.ingestUrl(), key.getString("token"), creds.getString("certificateSha256"), null);
            try {
                CaptureHarness.join(onB.register("across", "test"));
                adminA.delete("/keys/" + key.getString("id"));
                long t0 = System.nanoTime();
                // The documented bound (docs/scale-out.md): at once with the bus, 5 s at most without it.
                CaptureHarness.await("B to refuse the key revoked through A", REVOCATION_BOUND,
                        () -> {
                            try {
                                CaptureHarness.join(onB.register("across", "test"));
                                return false;
                            } catch (AssertionError refused) {
                                return refused.getCause() != null && refused.getCause().getCause() instanceof io.tidemark.agent.IngestRejection r
                                        && r.status() == 401;
                            }
                        });
                System.out.println("scale-out: key revoked through A refused by B after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                // And the admin API of B lists it revoked: the record is the store's, not A's.
                assertTrue(adminB.get("/keys").getJsonArray("keys").stream().map(k -> (JsonObject) k)
                        .anyMatch(k -> k.getString("id").equals(key.getString("id")) && k.getValue("revokedAt") != null));
            } finally {
                onB.close();
            }
        }
    }

    @Test
    void aDownloadLinkMadeOnOneFrontEndWorksOnceOnTheOther() throws Exception {
        try (MongoShapedSource source = new MongoShapedSource()) {
            source.insertMany("shop.links", List.of(new Document("_id", 1).append("v", "x"), new Document("_id", 2)));
            Agent agent = startAgent(source, "links", a.ingestUrl());
            try (AdminClient adminA = admin(a); AdminClient adminB = admin(b)) {
                awaitActiveJob("links");
                awaitBoundTo("links", b);
                // Asked of A, the snapshot goes to B's daemon, which owns the job: retried only
                // until B's head is open.
                JsonObject[] taken = new JsonObject[1];
                CaptureHarness.await("a snapshot of job links", START, () -> {
                    try {
                        taken[0] = adminA.post("/jobs/links/snapshots", new JsonObject().put("wait", true).put("force", true), 120);
                        return true;
                    } catch (CliException noHeadYet) {
                        sleep(200);
                        return false;
                    }
                });
                JsonObject snapshot = taken[0];
                assertEquals("complete", snapshot.getString("status"), snapshot.encode());
                // Every later request reaches the owner at once, through either front end: none
                // lands on a daemon that does not hold the job (A's, or C's).
                for (int i = 0; i < 4; i++) {
                    try (AdminClient via = admin(i % 2 == 0 ? a : b)) {
                        JsonObject again = via.post("/jobs/links/snapshots", new JsonObject().put("wait", true).put("force", true), 120);
                        assertEquals("complete", again.getString("status"), again.encode());
                    }
                }
                JsonObject restore = adminA.post("/jobs/links/restores", new JsonObject().put("snapshot", snapshot.getString("snapshotId")));
                String link = restore.getString("downloadUrl");
                Path out = work.resolve("links.archive");
                AdminClient.Download got = adminB.download(link, out, AdminClient.StreamTimeouts.DEFAULT, n -> { });
                assertTrue(got.bytes() > 0 && Files.size(out) == got.bytes(), "the link made on A downloads on B");
                CliException again = assertThrows(CliException.class,
                        () -> adminA.download(link, work.resolve("again.archive"), AdminClient.StreamTimeouts.DEFAULT, n -> { }));
                assertTrue(again.getMessage().contains("already used"), again.getMessage());
            } finally {
                agent.stop();
            }
        }
    }

    // --- helpers ---

    private static Node node(String name, int clusterPort, String members, Path tls) throws IOException {
        Path dir = work.resolve(name);
        Node node = new Node(name, dir.resolve("data"), CaptureHarness.freePort(), CaptureHarness.freePort());
        Files.createDirectories(dir);
        String tlsFiles = tls == null ? "" : ", tls: {certFile: " + tls.resolve("cert.pem") + ", keyFile: " + tls.resolve("key.pem") + "}";
        String apiTls = tls == null ? "" : ", tls: {enabled: true, certFile: " + tls.resolve("cert.pem") + ", keyFile: " + tls.resolve("key.pem") + "}";
        String yaml = String.join("\n",
                "dataDir: " + node.dataDir(),
                "mongodb: {metadataUri: \"" + store.uri() + "/tidemark\", blockstoreUri: \"" + store.uri() + "/tidemark_blockstore\"}",
                "ingest: {host: 127.0.0.1, port: " + node.ingestPort() + tlsFiles + "}",
                "api: {host: 127.0.0.1, port: " + node.apiPort() + apiTls + "}",
                "agent: {batchMaxMillis: 50, heartbeatSeconds: 1, pollMillis: 20, sliceBytes: 65536}",
                "heads: {blockCacheBytes: 16777216, memtableBytes: 8388608, documentCacheBytes: 8388608}",
                "snapshots: {chunkMinBytes: 1024, chunkAvgBytes: 4096, chunkMaxBytes: 16384}",
                "cluster: {enabled: true, name: scale-out-test, host: 127.0.0.1, port: " + clusterPort + ", members: \"" + members + "\"}",
                "");
        Files.writeString(dir.resolve("tidemark.yaml"), yaml);
        return node;
    }

    private static Process start(Node node) {
        CountDownLatch up = new CountDownLatch(1);
        Path dir = node.dataDir().getParent();
        Process p = ChildJvm.start(dir, List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), MAIN,
                List.of("server", "--config", dir.resolve("tidemark.yaml").toString()), line -> {
                    if (line.startsWith("Tidemark server running")) {
                        up.countDown();
                    }
                }, line -> { });
        servers.add(p);
        startedLatches.put(p, up);
        return p;
    }

    private static final Map<Process, CountDownLatch> startedLatches = new java.util.concurrent.ConcurrentHashMap<>();

    private static void awaitUp(Process p, Node node) throws InterruptedException {
        long deadline = System.nanoTime() + START.toNanos();
        CountDownLatch up = startedLatches.get(p);
        while (!up.await(100, TimeUnit.MILLISECONDS)) {
            if (!p.isAlive()) {
                throw new AssertionError("server " + node.name() + " exited with status " + p.exitValue() + " while starting");
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("server " + node.name() + " did not start within " + START);
            }
        }
    }

    private static Agent startAgent(MongoShapedSource source, String deployment, String urls) {
        TidemarkConfig.Agent tuning = CaptureHarness.config(work.resolve("agent"), Map.of()).agent();
        Agent agent = new Agent(vertx, new AgentSettings(source.uri(), deployment, urls, creds.getString("agentKey"),
                creds.getString("certificateSha256"), null, tuning));
        CaptureHarness.join(agent.start());
        return agent;
    }

    /** Waits until the deployment's job is ACTIVE (its initial sync complete); returns its id. */
    private static String awaitActiveJob(String deployment) {
        JsonObject[] job = new JsonObject[1];
        CaptureHarness.await("job " + deployment + " to be active", START, () -> {
            job[0] = CaptureHarness.join(stores.jobs().resolve(deployment).otherwise(new JsonObject()));
            return job[0] != null && "ACTIVE".equals(job[0].getString("state"))
                    && job[0].getJsonObject("sync", new JsonObject()).getBoolean("complete", false);
        });
        return job[0].getString("_id");
    }

    /** Only {@code to}'s daemon may receive new jobs (the registry's switches, through A's REST API). */
    private static void assignNewJobsTo(Node to) throws IOException {
        try (AdminClient admin = admin(a)) {
            for (Node n : List.of(a, b, c)) {
                admin.patch("/daemons/" + daemonId(n), new JsonObject().put("assignment", n == to));
            }
        }
    }

    private static String daemonId(Node node) throws IOException {
        return Files.readString(node.dataDir().resolve("daemon-id")).trim();
    }

    /** Waits until the deployment's job is bound to {@code node}'s daemon; returns the job's id. */
    private static String awaitBoundTo(String deployment, Node node) throws IOException {
        String daemon = daemonId(node);
        JsonObject[] job = new JsonObject[1];
        CaptureHarness.await("job " + deployment + " to be bound to " + node.name(), START, () -> {
            job[0] = CaptureHarness.join(stores.jobs().resolve(deployment).otherwise(new JsonObject()));
            JsonObject binding = job[0] == null ? null : job[0].getJsonObject("binding");
            return binding != null && daemon.equals(binding.getString("daemon"));
        });
        return job[0].getString("_id");
    }

    private static void sleep(long millis) {
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    private static AdminClient admin(Node node) {
        return new AdminClient(null, node.apiUrl(), creds.getString("adminToken"), creds.getString("certificateSha256"));
    }

    private static double applied(Node node, String job) {
        return metric(node, "tidemark_applier_entries_total", job);
    }

    private static double stored(Node node, String job) {
        return metric(node, "tidemark_ingest_oplog_entries_total", job);
    }

    /** A per-job counter from the node's /metrics (0 before it first counts). */
    private static double metric(Node node, String name, String job) {
        String text = CaptureHarness.join(http.request(new RequestOptions().setMethod(HttpMethod.GET)
                        .setAbsoluteURI(node.apiUrl() + "/metrics"))
                .compose(req -> req.send().compose(resp -> resp.body())).map(Object::toString));
        Matcher m = Pattern.compile(Pattern.quote(name) + "\\{job=\"" + Pattern.quote(job) + "\",?\\} ([0-9.E+]+)").matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static long median(long[] values) {
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
