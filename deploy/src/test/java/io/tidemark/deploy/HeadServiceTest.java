package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.applier.Head;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.vertx.core.Future;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The head service driven through the agent protocol with entries in MongoDB's own shapes: built
 * from the sync store, caught up (where a missing document is expected), then steady (where it is
 * divergence), surviving a server restart.
 */
class HeadServiceTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final OpTime START = new OpTime(1_700_000_000L, 10);
    private static final UUID ORDERS = UUID.fromString("0f6c8d7e-1111-4a2b-9c3d-000000000001");

    @TempDir
    Path dataDir;

    private TidemarkConfig config;
    private TidemarkServer server;
    private Vertx vertx;
    private IngestClient agent;
    private String job;
    private OpTime tip = START;

    @BeforeEach
    void start() {
        config = CaptureHarness.config(dataDir, Map.of());
        server = TidemarkServer.start(config);
        vertx = VertxFactory.create();
        JsonObject creds = CredentialsFile.read(config.dataPath());
        agent = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"), creds.getString("certificateSha256"), null);
        job = get(agent.register("heads", "h")).getString("job");
    }

    @AfterEach
    void stop() {
        agent.close();
        vertx.close();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aHeadIsBuiltCaughtUpAndKeptInStepThenFailsLoudlyOnDivergence() {
        long gen = get(agent.beginSync(job, START, START));
        BsonDocument info = new BsonDocument("name", new BsonString("orders")).append("type", new BsonString("collection"))
                .append("options", new BsonDocument())
                .append("info", new BsonDocument("readOnly", org.bson.BsonBoolean.FALSE).append("uuid", new BsonBinary(ORDERS)));
        BsonArray indexes = new BsonArray(java.util.List.of(new BsonDocument("v", new BsonInt32(2))
                .append("key", new BsonDocument("_id", new BsonInt32(1))).append("name", new BsonString("_id_"))));
        get(agent.putCollection(job, gen, "shop.orders", bytes(new BsonDocument("info", info).append("indexes", indexes)).getBytes()));
        get(agent.putSlice(job, gen, "shop.orders", 0, concat(doc(1, "new"), doc(2, "new"))));

        // Written while the copy ran: an update of a document the copy never saw (deleted later)
        // is skipped during catch-up, as MongoDB's initial sync does.
        send(update(3, "paid"), delete(3), update(1, "paid"));
        OpTime syncEnd = tip;
        get(agent.endSync(job, gen, syncEnd, 2, 1));
        await("the head to reach the sync's end", WAIT, () -> syncEnd.equals(applied()));
        assertEquals(doc(1, "paid"), headDoc(1).orElseThrow(), "catch-up applied the update");

        send(insert(4, "new"), update(2, "shipped"), noop());
        OpTime steady = tip;
        await("steady application", WAIT, () -> steady.equals(applied()));
        assertEquals(doc(2, "shipped"), headDoc(2).orElseThrow());
        assertEquals(doc(4, "new"), headDoc(4).orElseThrow());
        // Recorded in the job's document after the head applied it (a write behind, not in step).
        await("the applied position recorded for the API", WAIT, () -> steady.toJson()
                .equals(io.tidemark.ingest.JobsApi.view(job(server, "heads")).getJsonObject("appliedTs")));
        // The sync's slices stay until a snapshot can rebuild the head instead, then go.
        assertEquals(1, slices(gen), "no snapshot yet: a lost head is built again from the slices");
        JsonObject snapshot = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "heads", "--wait", "--json"));
        assertEquals("complete", snapshot.getString("status"), snapshot.encode());
        await("sync slices to be removed once a snapshot at or after the sync's end exists", WAIT, () -> slices(gen) == 0);

        // A restart reopens the head where it stopped and it continues.
        server.close();
        server = TidemarkServer.start(config);
        send(update(4, "paid"));
        OpTime afterRestart = tip;
        await("application after a restart", WAIT, () -> afterRestart.equals(applied()));
        assertEquals(doc(4, "paid"), headDoc(4).orElseThrow());
        // The restarted server's document cache had not seen document 4: its lookup is counted.
        String scrape = io.tidemark.shared.metrics.Metrics.registry().scrape();
        java.util.regex.Matcher misses = java.util.regex.Pattern
                .compile("tidemark_head_document_cache_lookups_total\\{result=\"miss\",?\\} ([0-9.E]+)").matcher(scrape);
        assertTrue(misses.find() && Double.parseDouble(misses.group(1)) >= 1, scrape);
        assertTrue(scrape.contains("tidemark_head_document_cache_lookups_total{result=\"hit\""), scrape);

        // An update of a document the head does not have, after the sync's end, is divergence.
        send(update(99, "paid"));
        await("the job to fail", WAIT, () -> "FAILED".equals(job(server, "heads").getString("state")));
        String error = job(server, "heads").getString("error");
        assertTrue(error.contains("diverged") && error.contains("\"o2\": {\"_id\": {\"$numberInt\": \"99\"}}"), error);
        assertTrue(Files.exists(config.headsPath().resolve(job)), "a failed head is kept for inspection");
        assertFalse(afterRestart.isAfter(OpTime.fromJson(job(server, "heads").getJsonObject("appliedTs"))));
    }

    private long slices(long gen) {
        return CaptureHarness.join(io.tidemark.shared.util.Futures.of(server.stores().sync().totals(job, gen), server.vertx()))[0];
    }

    private OpTime applied() {
        return server.heads().head(job).map(h -> OpTime.of(h.appliedTs())).orElse(null);
    }

    private Optional<RawBsonDocument> headDoc(int id) {
        Optional<Head> head = server.heads().head(job);
        return head.flatMap(h -> h.document("shop.orders", new BsonInt32(id)));
    }

    private void send(BsonDocument... ops) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        OpTime prev = tip;
        for (BsonDocument op : ops) {
            tip = new OpTime(tip.seconds(), tip.increment() + 1);
            op.append("ts", tip.toBson()).append("t", new BsonInt64(1)).append("v", new BsonInt64(2))
                    .append("wall", new org.bson.BsonDateTime(System.currentTimeMillis()));
            out.writeBytes(bytes(op).getBytes());
        }
        assertEquals(tip, get(agent.sendOplog(job, prev, Buffer.buffer(out.toByteArray()))));
    }

    private static RawBsonDocument doc(int id, String status) {
        return new RawBsonDocument(new BsonDocument("_id", new BsonInt32(id)).append("status", new BsonString(status)),
                new BsonDocumentCodec());
    }

    private static BsonDocument crud(String op) {
        return new BsonDocument("op", new BsonString(op)).append("ns", new BsonString("shop.orders"))
                .append("ui", new BsonBinary(ORDERS));
    }

    private static BsonDocument insert(int id, String status) {
        return crud("i").append("o", doc(id, status)).append("o2", new BsonDocument("_id", new BsonInt32(id)));
    }

    private static BsonDocument update(int id, String status) {
        return crud("u").append("o", new BsonDocument("$v", new BsonInt32(2)).append("diff",
                        new BsonDocument("u", new BsonDocument("status", new BsonString(status)))))
                .append("o2", new BsonDocument("_id", new BsonInt32(id)));
    }

    private static BsonDocument delete(int id) {
        return crud("d").append("o", new BsonDocument("_id", new BsonInt32(id)));
    }

    private static BsonDocument noop() {
        return new BsonDocument("op", new BsonString("n")).append("ns", new BsonString(""))
                .append("o", new BsonDocument("msg", new BsonString("periodic noop")));
    }

    private static Buffer bytes(BsonDocument d) {
        return Buffer.buffer(CaptureHarness.bytes(new RawBsonDocument(d, new BsonDocumentCodec())));
    }

    private static Buffer concat(RawBsonDocument... docs) {
        Buffer b = Buffer.buffer();
        for (RawBsonDocument d : docs) {
            b.appendBytes(CaptureHarness.bytes(d));
        }
        return b;
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
