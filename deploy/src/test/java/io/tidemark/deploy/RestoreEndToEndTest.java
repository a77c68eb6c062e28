package io.tidemark.deploy;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.groomer.FencedBlockStore;
import io.tidemark.restore.DownloadApi;
import io.tidemark.restore.PointInTimeSources;
import io.tidemark.restore.RestoreService;
import io.tidemark.restore.RestoresApi;
import io.tidemark.restore.archive.StrictArchiveReader;
import io.tidemark.restore.pit.PointInTimeRestores;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.http.ErrorResponses;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.tidemark.shared.security.SelfSignedTls;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.store.EmbeddedMongo;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Schedulers;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Restores end to end: a source with options, indexes and varied documents → agent → head →
 * snapshot → restore over HTTPS → the archive parsed strictly and loaded into a fresh server,
 * equal to the source; gzip; a corrupt block; and the requests a restore must refuse.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestoreEndToEndTest {

    private static final String DEPLOYMENT = "restore-shop";
    private static final Map<String, Document> OPTIONS = new LinkedHashMap<>();

    @TempDir
    static Path dataDir;

    static MongoShapedSource source;
    static TidemarkServer server;
    static Agent agent;
    static String jobId;
    static String snapshotId;
    static OpTime snapshotTs;
    static HttpServer front;
    static String frontUrl;
    static SelfSignedTls.Material tls;
    static HttpClient http;
    static final MutableClock CLOCK = new MutableClock();

    /** A clock tests can move forward, to expire links without waiting. */
    static final class MutableClock extends Clock {
        volatile Duration offset = Duration.ZERO;

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset);
        }
    }

    @BeforeAll
    static void backUpAndSnapshot() {
        source = new MongoShapedSource();
        OPTIONS.put("logs.events", new Document());
        source.createCollection("logs.events", OPTIONS.get("logs.events"));
        // small chunks, so that every namespace spans several blocks and documents straddle them
        server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of(
                "TIDEMARK_SNAPSHOTS_CHUNKMINBYTES", "2048", "TIDEMARK_SNAPSHOTS_CHUNKAVGBYTES", "8192",
                "TIDEMARK_SNAPSHOTS_CHUNKMAXBYTES", "32768")));
        // the agent starts on an almost empty source, so collections reach the head through the oplog's
        // create and index entries, with their options (mongo-java-server's listCollections, which
        // an initial sync would read, does not report options)
        agent = CaptureHarness.startAgent(server, source.uri(), DEPLOYMENT);
        await("the job's head", Duration.ofSeconds(60), () -> job(server, DEPLOYMENT).getJsonObject("appliedTs") != null);
        OPTIONS.put("shop.users", new Document("validator", new Document("email", new Document("$exists", true)))
                .append("validationLevel", "moderate"));
        OPTIONS.put("shop.orders", new Document());
        source.createCollection("shop.users", OPTIONS.get("shop.users"));
        source.createCollection("shop.orders", OPTIONS.get("shop.orders"));
        source.createIndex("shop.users", new Document("email", 1), new Document("unique", true));
        source.createIndex("shop.users", new Document("lastSeen", 1), new Document("expireAfterSeconds", 86_400));
        source.createIndex("shop.orders", new Document("userId", 1).append("placedAt", -1), null);
        source.createIndex("shop.orders", new Document("status", 1),
                new Document("partialFilterExpression", new Document("status", new Document("$eq", "open"))));
        List<Document> users = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            users.add(new Document("_id", new ObjectId()).append("email", "u" + i + "@example.com")
                    .append("age", i % 90).append("score", i * 1.5).append("big", 10_000_000_000L + i)
                    .append("balance", new Decimal128(new BigDecimal("12.34").add(BigDecimal.valueOf(i))))
                    .append("lastSeen", new Date(1_700_000_000_000L + i)).append("active", i % 3 == 0)
                    .append("nothing", null).append("tags", List.of("a", "b" + i))
                    .append("address", new Document("city", "Zürich ☃").append("zip", i))
                    .append("avatar", new org.bson.types.Binary(new byte[i % 700])));
        }
        source.insertMany("shop.users", users);
        List<Document> orders = new ArrayList<>();
        for (int i = 0; i < 1_500; i++) {
            orders.add(new Document("_id", i).append("userId", i % 600).append("status", i % 4 == 0 ? "open" : "shipped")
                    .append("placedAt", new Date(1_700_000_000_000L + 1000L * i))
                    .append("lines", List.of(new Document("sku", "s" + i).append("qty", 1 + i % 5))));
        }
        source.insertMany("shop.orders", orders);
        List<Document> events = new ArrayList<>();
        for (int i = 0; i < 800; i++) {
            events.add(new Document("_id", "e" + i).append("text", "x".repeat(i % 900)));
        }
        source.insertMany("logs.events", events);

        OpTime loaded = source.latestTs();
        await("the head to apply everything", Duration.ofSeconds(60),
                () -> loaded.equals(OpTime.fromJson(job(server, DEPLOYMENT).getJsonObject("appliedTs"))));
        jobId = job(server, DEPLOYMENT).getString("_id");
        JsonObject snap = new JsonObject(cli(null, "snapshot", "create", "--job", DEPLOYMENT, "--wait", "--json",
                "--data-dir", dataDir.toString()));
        snapshotId = snap.getString("snapshotId", snap.getString("id"));
        snapshotTs = OpTime.fromJson(snap.getJsonObject("ts"));
        assertEquals(loaded, snapshotTs);

        // The restore routes on their own HTTPS server, mounted as the front end mounts them.
        PointInTimeSources pit = new PointInTimeRestores(server.config(), server.stores(), server.blocks());
        RestoreService restores = new RestoreService(server.stores(), server.blocks(), pit,
                Duration.ofMinutes(server.config().restore().linkTtlMinutes()), CLOCK, Schedulers.parallel());
        CaptureHarness.join(restores.createIndexes());
        Vertx vertx = server.vertx();
        Router root = Router.router(vertx);
        root.route("/*").subRouter(DownloadApi.router(vertx, restores));
        Router api = Router.router(vertx);
        api.route().handler(BodyHandler.create(false).setBodyLimit(1 << 20));
        api.route("/*").subRouter(RestoresApi.router(vertx, restores));
        api.route().failureHandler(ErrorResponses::handle);
        root.route("/api/v1/*").subRouter(api);
        root.route().failureHandler(ErrorResponses::handle);
        root.route().last().handler(ctx -> ctx.fail(404));
        tls = SelfSignedTls.ensure(dataDir.resolve("tls"));
        front = CaptureHarness.join(vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                        .setCompressionSupported(true).setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                                .setCertPath(tls.certFile().toString()).setKeyPath(tls.keyFile().toString())))
                .requestHandler(root).listen());
        frontUrl = "https://127.0.0.1:" + front.actualPort();
        // asks for compressed responses, as curl --compressed does: errors may come gzipped,
        // the archive must not be (it is gzipped on request only, and compressing it on the event
        // loop would stall the front end)
        http = CLIENT_VERTX.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(false).setDecompressionSupported(true)
                .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(tls.sha256()))));
    }

    private static final Vertx CLIENT_VERTX = VertxFactory.create();

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.stop();
        }
        if (server != null) {
            server.close();
        }
        if (source != null) {
            source.close();
        }
        CLIENT_VERTX.close();
    }

    @Test
    @Order(1)
    void aSnapshotRestoredThroughTheCliLoadsBackEqualToTheSource() throws Exception {
        Path out = dataDir.resolve("plain.archive");
        JsonObject result = new JsonObject(cli(null, "restore", "--job", DEPLOYMENT, "--snapshot", snapshotId,
                "--out", out.toString(), "--json"));
        assertEquals("DELIVERED", result.getString("state"), result.encode());
        assertEquals(Files.size(out), result.getLong("bytes"));
        assertFalse(Files.exists(dataDir.resolve("plain.archive.part")));
        assertArchiveEqualsSource(StrictArchiveReader.read(Files.readAllBytes(out)));
    }

    @Test
    @Order(2)
    void aGzippedRestoreIsTheSameArchiveGzipped() throws Exception {
        Path out = dataDir.resolve("shop.archive.gz");
        JsonObject result = new JsonObject(cli(null, "restore", "--job", DEPLOYMENT, "--snapshot", snapshotId,
                "--out", out.toString(), "--gzip", "--json"));
        assertEquals("DELIVERED", result.getString("state"));
        assertTrue(result.getString("filename").endsWith(".archive.gz"), result.encode());
        assertArchiveEqualsSource(StrictArchiveReader.readGzip(Files.readAllBytes(out)));
    }

    @Test
    @Order(3)
    void aPushThroughTheCliFillsAFreshDeployment() {
        try (EmbeddedMongo fresh = EmbeddedMongo.inMemoryWithOplog(); MongoClient client = MongoClients.create(fresh.uri())) {
            JsonObject result = new JsonObject(cli(null, "restore", "--job", DEPLOYMENT, "--snapshot", snapshotId,
                    "--to", fresh.uri(), "--json"));
            assertEquals("DELIVERED", result.getString("state"), result.encode());
            for (String ns : source.namespaces()) {
                String[] parts = ns.split("\\.", 2);
                Map<String, BsonDocument> loaded = new LinkedHashMap<>();
                client.getDatabase(parts[0]).getCollection(parts[1], BsonDocument.class).find()
                        .forEach(d -> loaded.put(d.get("_id").toString(), d));
                List<RawBsonDocument> original = source.documents(ns);
                assertEquals(original.size(), loaded.size(), ns + " pushed count");
                for (RawBsonDocument d : original) {
                    assertEquals(d.toBsonDocument(), loaded.get(d.get("_id").toString()), ns + " document " + d.get("_id"));
                }
            }
        }
    }

    @Test
    @Order(4)
    void aLinkWorksOnceAndAnUnknownOneIsNotFound() {
        JsonObject created = createRestore(new JsonObject().put("snapshot", snapshotId));
        Download first = download(created.getString("downloadUrl"));
        assertEquals(200, first.status);
        assertTrue(first.complete, "the first download completes");
        assertTrue(first.contentEncoding == null || first.contentEncoding.equals("identity"), first.contentEncoding);
        assertTrue(first.contentDisposition.contains(jobId + "-" + snapshotTs.seconds() + "-" + snapshotTs.increment()
                + ".archive"), first.contentDisposition);
        StrictArchiveReader.read(first.body);

        Download again = download(created.getString("downloadUrl"));
        assertEquals(410, again.status);
        assertTrue(again.error().contains("already used"), again.error());
        assertEquals("DELIVERED", status(created.getString("id")).getString("state"));
        assertEquals(first.body.length, status(created.getString("id")).getLong("bytes"));

        Download unknown = download("/download/" + "A".repeat(43));
        assertEquals(404, unknown.status);
        assertTrue(unknown.error().contains("unknown download link"), unknown.error());
    }

    @Test
    @Order(5)
    void anExpiredLinkIsGone() {
        JsonObject created = createRestore(new JsonObject().put("snapshot", snapshotId));
        CLOCK.offset = Duration.ofMinutes(server.config().restore().linkTtlMinutes() + 1);
        try {
            assertEquals("EXPIRED", status(created.getString("id")).getString("state"));
            Download late = download(created.getString("downloadUrl"));
            assertEquals(410, late.status);
            assertTrue(late.error().contains("expired"), late.error());
        } finally {
            CLOCK.offset = Duration.ZERO;
        }
        assertEquals("EXPIRED", status(created.getString("id")).getString("state"));
    }

    @Test
    @Order(6)
    void badRequestsGetClearErrors() {
        Reply unknownSnapshot = post("/jobs/" + DEPLOYMENT + "/restores", new JsonObject().put("snapshot", "0123456789abcdef01234567"));
        assertEquals(404, unknownSnapshot.status);
        assertTrue(unknownSnapshot.error().contains("has no snapshot 0123456789abcdef01234567"), unknownSnapshot.error());

        Reply unknownJob = post("/jobs/nope/restores", new JsonObject().put("snapshot", snapshotId));
        assertEquals(404, unknownJob.status);

        Reply both = post("/jobs/" + DEPLOYMENT + "/restores", new JsonObject().put("snapshot", snapshotId).put("atTs", "1:1"));
        assertEquals(400, both.status);
        assertTrue(both.error().contains("exactly one of"), both.error());

        Reply badTs = post("/jobs/" + DEPLOYMENT + "/restores", new JsonObject().put("atTs", "yesterday"));
        assertEquals(400, badTs.status);

        Reply outside = post("/jobs/" + DEPLOYMENT + "/restores", new JsonObject().put("atTs", "1000:1"));
        assertEquals(422, outside.status, outside.body.encode());
        assertTrue(outside.error().contains("outside"), outside.error());
        assertNotNull(outside.body.getJsonObject("window"), outside.body.encode());

        Reply pushWithoutTarget = post("/jobs/" + DEPLOYMENT + "/restores", new JsonObject().put("snapshot", snapshotId)
                .put("delivery", "push"));
        assertEquals(400, pushWithoutTarget.status);
        assertTrue(pushWithoutTarget.error().contains("'target'"), pushWithoutTarget.error());

        Reply unknownRestore = get("/restores/nope");
        assertEquals(404, unknownRestore.status);
    }

    @Test
    @Order(7)
    void aCorruptBlockFailsTheRestoreNamingItAndTheDownloadBreaksOff() throws Exception {
        ManifestStore manifests = new ManifestStore(server.stores().blockstore().database());
        List<BlockRef> refs = manifests.allRefs(snapshotId).collectList().block(Duration.ofSeconds(10));
        assertTrue(refs.size() > 10, "enough blocks: " + refs.size());
        BlockRef victim = refs.get(refs.size() / 2);
        // The embedded server's default store keeps blocks in packs; flip bits in the victim's record.
        PackBlockStore.Location at = ((PackBlockStore) ((FencedBlockStore) server.blocks()).delegate())
                .locate(victim.id()).block(Duration.ofSeconds(10));
        // In place, as the server may append to the same pack meanwhile.
        long[] positions = {at.dataOffset() + at.storedLength() / 2, at.dataOffset() + at.storedLength() - 3};
        flipBits(at.pack(), positions, new byte[] {0x40, 0x11});
        try {
            JsonObject created = createRestore(new JsonObject().put("snapshot", snapshotId));
            Download broken = download(created.getString("downloadUrl"));
            assertEquals(200, broken.status, "the transfer had started");
            assertFalse(broken.complete, "a restore that failed must not end like a complete download");
            assertNotNull(broken.failure);
            await("the restore to be marked failed", Duration.ofSeconds(10),
                    () -> "FAILED".equals(status(created.getString("id")).getString("state")));
            String error = status(created.getString("id")).getString("error");
            assertTrue(error.contains(victim.id().hex()), error);

            Path out = dataDir.resolve("broken.archive");
            String err = cliFailing("restore", "--job", DEPLOYMENT, "--snapshot", snapshotId, "--out", out.toString());
            assertTrue(err.contains(victim.id().hex()), err);
            assertFalse(Files.exists(out));
            assertFalse(Files.exists(dataDir.resolve("broken.archive.part")));
        } finally {
            flipBits(at.pack(), positions, new byte[] {0x40, 0x11});
        }
    }

    @Test
    @Order(8)
    void aMissingBlockEndsEveryCliRestoreWithAClearErrorAndNoFile() throws Exception {
        ManifestStore manifests = new ManifestStore(server.stores().blockstore().database());
        List<BlockRef> refs = manifests.allRefs(snapshotId).collectList().block(Duration.ofSeconds(10));
        // an early block: the stream breaks while the client is still setting up its file, where
        // a close once went unnoticed and the command waited for ever
        BlockRef victim = refs.get(1);
        byte[] data = server.blocks().read(victim.id()).block(Duration.ofSeconds(10));
        server.blocks().delete(victim.id()).block(Duration.ofSeconds(10));
        try {
            Path out = dataDir.resolve("missing.archive");
            for (int run = 0; run < 10; run++) {
                long started = System.nanoTime();
                String err = cliFailing("restore", "--job", DEPLOYMENT, "--snapshot", snapshotId, "--out", out.toString(),
                        "--idle-timeout", "20");
                long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
                assertTrue(seconds < 15, "run " + run + " ended within the idle timeout, not by it: " + seconds + " s");
                List<String> said = err.lines().filter(l -> l.startsWith("tidemark:")).toList();
                assertEquals(1, said.size(), "one line says what failed: " + err);
                assertTrue(said.get(0).contains("failed") && said.get(0).contains(victim.id().hex()), "run " + run + ": " + err);
                assertFalse(Files.exists(out), "run " + run);
                assertFalse(Files.exists(dataDir.resolve("missing.archive.part")), "run " + run);
            }
        } finally {
            server.blocks().putIfAbsent(victim.id(), io.tidemark.shared.blocks.BlockCodec.compress(data, 3), data.length)
                    .block(Duration.ofSeconds(10));
        }
    }

    private static void flipBits(Path file, long[] positions, byte[] masks) throws java.io.IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
            for (int i = 0; i < positions.length; i++) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
                ch.read(b, positions[i]);
                b.put(0, (byte) (b.get(0) ^ masks[i]));
                ch.write(b.flip(), positions[i]);
            }
        }
    }

    // ------------------------------------------------------------------ checks

    /** Prelude metadata as the source reports it, and every document, byte for byte and loaded into a fresh server. */
    private static void assertArchiveEqualsSource(StrictArchiveReader.Archive archive) {
        Map<String, StrictArchiveReader.PreludeEntry> prelude = new LinkedHashMap<>();
        archive.prelude().forEach(e -> prelude.put(e.namespace(), e));
        assertEquals(source.namespaces(), new java.util.TreeSet<>(prelude.keySet()));
        for (String ns : source.namespaces()) {
            BsonDocument meta = prelude.get(ns).parsedMetadata();
            BsonDocument expectedOptions = new RawBsonDocument(OPTIONS.get(ns).toBsonDocument().clone(),
                    new org.bson.codecs.BsonDocumentCodec()).asDocument();
            assertEquals(expectedOptions.isEmpty() ? new BsonDocument() : expectedOptions,
                    meta.containsKey("options") ? meta.getDocument("options") : new BsonDocument(), ns + " options");
            List<BsonValue> specs = new ArrayList<>(source.indexes(ns));
            assertEquals(new BsonArray(specs), meta.getArray("indexes"), ns + " index specs");
            // MongoShapedSource's oplog carries no ui, so the head knows no UUIDs to pass on
            assertFalse(meta.containsKey("uuid") && !meta.getString("uuid").getValue().matches("[0-9a-f]{32}"));

            List<byte[]> expected = source.documents(ns).stream().map(CaptureHarness::bytes)
                    .sorted(Comparator.comparing(RestoreEndToEndTest::idKey)).toList();
            List<byte[]> got = archive.data(ns).documents.stream().sorted(Comparator.comparing(RestoreEndToEndTest::idKey)).toList();
            assertEquals(expected.size(), got.size(), ns + " document count");
            for (int i = 0; i < expected.size(); i++) {
                assertArrayEquals(expected.get(i), got.get(i), ns + " document " + i);
            }
        }

        // what mongorestore does with it, on a fresh server: create, index, insert; then compare
        try (EmbeddedMongo fresh = EmbeddedMongo.inMemoryWithOplog(); MongoClient client = MongoClients.create(fresh.uri())) {
            for (StrictArchiveReader.PreludeEntry e : archive.prelude()) {
                MongoDatabase db = client.getDatabase(e.db());
                db.createCollection(e.collection());
                for (BsonValue spec : e.parsedMetadata().getArray("indexes")) {
                    BsonDocument s = spec.asDocument();
                    if (!s.getString("name").getValue().equals("_id_") && !s.containsKey("partialFilterExpression")) {
                        db.getCollection(e.collection()).createIndex(s.getDocument("key"), new com.mongodb.client.model.IndexOptions()
                                .name(s.getString("name").getValue()).unique(s.getBoolean("unique", org.bson.BsonBoolean.FALSE).getValue()));
                    }
                }
                List<RawBsonDocument> docs = archive.data(e.namespace()).documents.stream().map(RawBsonDocument::new).toList();
                if (!docs.isEmpty()) {
                    db.getCollection(e.collection(), RawBsonDocument.class).insertMany(docs);
                }
            }
            for (String ns : source.namespaces()) {
                String[] parts = ns.split("\\.", 2);
                Map<String, BsonDocument> loaded = new LinkedHashMap<>();
                client.getDatabase(parts[0]).getCollection(parts[1], BsonDocument.class).find()
                        .forEach(d -> loaded.put(d.get("_id").toString(), d));
                List<RawBsonDocument> original = source.documents(ns);
                assertEquals(original.size(), loaded.size(), ns + " loaded count");
                for (RawBsonDocument d : original) {
                    assertEquals(d.toBsonDocument(), loaded.get(d.get("_id").toString()), ns + " document " + d.get("_id"));
                }
            }
        }
    }

    private static String idKey(byte[] doc) {
        return new RawBsonDocument(doc).get("_id").toString();
    }

    // ------------------------------------------------------------------ HTTP helpers

    record Reply(int status, JsonObject body) {
        String error() {
            return body.getString("error", "");
        }
    }

    static final class Download {
        int status;
        byte[] body = new byte[0];
        boolean complete;
        Throwable failure;
        String contentDisposition = "";
        String contentEncoding;

        String error() {
            return new JsonObject(Buffer.buffer(body)).getString("error", "");
        }
    }

    private static JsonObject createRestore(JsonObject body) {
        Reply r = post("/jobs/" + DEPLOYMENT + "/restores", body);
        assertEquals(201, r.status, r.body.encode());
        assertTrue(r.body.getString("downloadUrl").startsWith("/download/"));
        assertEquals("READY", r.body.getString("state"));
        return r.body;
    }

    private static JsonObject status(String id) {
        Reply r = get("/restores/" + id);
        assertEquals(200, r.status, r.body.encode());
        return r.body;
    }

    private static Reply post(String path, JsonObject body) {
        return call(HttpMethod.POST, "/api/v1" + path, body);
    }

    private static Reply get(String path) {
        return call(HttpMethod.GET, "/api/v1" + path, null);
    }

    private static Reply call(HttpMethod method, String path, JsonObject body) {
        Future<Reply> f = http.request(new RequestOptions().setMethod(method).setAbsoluteURI(frontUrl + path)
                        .putHeader("Content-Type", "application/json"))
                .compose(req -> req.send(body == null ? Buffer.buffer() : body.toBuffer()))
                .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b.length() == 0 ? new JsonObject() : b.toJsonObject())));
        return CaptureHarness.join(f);
    }

    /** A raw GET that records whether the body ended cleanly or broke off. */
    private static Download download(String path) {
        Download d = new Download();
        Promise<Download> done = Promise.promise();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(frontUrl + path))
                .compose(req -> req.send())
                .onFailure(done::tryFail)
                .onSuccess(resp -> {
                    d.status = resp.statusCode();
                    d.contentDisposition = String.valueOf(resp.getHeader("Content-Disposition"));
                    d.contentEncoding = resp.getHeader("Content-Encoding");
                    resp.handler(b -> body.writeBytes(b.getBytes()));
                    resp.exceptionHandler(e -> {
                        d.failure = e;
                        d.body = body.toByteArray();
                        done.tryComplete(d);
                    });
                    resp.endHandler(v -> {
                        d.complete = true;
                        d.body = body.toByteArray();
                        done.tryComplete(d);
                    });
                });
        try {
            return done.future().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("download of " + path + " failed: " + e, e);
        }
    }

    // ------------------------------------------------------------------ CLI helpers

    /** Runs the CLI against the test front end (or the server's own API for non-restore commands) and returns stdout. */
    private static String cli(String unused, String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        if (args[0].equals("restore")) {
            all.addAll(List.of("--url", frontUrl, "--token", "unused", "--pin", tls.sha256(), "--data-dir", dataDir.toString()));
        }
        return CliRun.ok(all.toArray(String[]::new));
    }

    /** Runs a restore that must fail; returns what it printed on stderr. */
    private static String cliFailing(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args).subList(1, args.length));
        all.addAll(List.of("--url", frontUrl, "--token", "unused", "--pin", tls.sha256(), "--data-dir", dataDir.toString()));
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertEquals(1, new picocli.CommandLine(new RestoreCommand())
                    .setExecutionExceptionHandler((e, cmd, parsed) -> {
                        cmd.getErr().println("tidemark: " + e.getMessage());
                        return 1;
                    }).execute(all.toArray(String[]::new)));
        } finally {
            System.setErr(err);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
