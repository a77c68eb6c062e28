package io.tidemark.deploy;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.tidemark.agent.Agent;
import io.tidemark.applier.VerifyHash;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.restore.PitWindow;
import io.tidemark.restore.pit.DocumentFramer;
import io.tidemark.restore.pit.PointInTimeRestoreSource;
import io.tidemark.restore.pit.PointInTimeRestores;
import io.tidemark.restore.push.PushOptions;
import io.tidemark.restore.push.PushProgress;
import io.tidemark.restore.push.PushSummary;
import io.tidemark.restore.push.Pusher;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.vertx.core.json.JsonObject;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Point-in-time restores end to end: a source captured by the real agent and server, a snapshot,
 * then a random workload (inserts, updates, replacements, deletes, create, drop, rename) during
 * which the source's exact content is recorded at several oplog positions. Every recorded
 * position restored from the stored snapshot and oplog must have the same namespaces and, byte
 * for byte, the same documents. Then a restore pushed into a fresh deployment.
 */
class PointInTimeRestoreTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dataDir;

    private record Recorded(OpTime ts, Map<String, VerifyHash.Result> content) {
    }

    @Test
    void recordedPointsOfAWorkloadRestoreExactlyAndOutsideTheWindowIsRefused() throws Exception {
        try (MongoShapedSource source = new MongoShapedSource();
             TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of(
                     "TIDEMARK_SNAPSHOTS_CHUNKMINBYTES", "2048", "TIDEMARK_SNAPSHOTS_CHUNKAVGBYTES", "8192",
                     "TIDEMARK_SNAPSHOTS_CHUNKMAXBYTES", "32768")))) {
            RandomizedHeadTest.RandomWrites writes = new RandomizedHeadTest.RandomWrites(source, new Random(11));
            writes.seed(150);
            Agent agent = CaptureHarness.startAgent(server, source.uri(), "pit-shop");
            OpTime loaded = source.latestTs();
            await("the head to apply the seed", WAIT, () -> loaded.equals(OpTime.fromJson(job(server, "pit-shop").getJsonObject("appliedTs"))));
            JsonObject snapshot = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "pit-shop", "--wait", "--json"));
            assertEquals("complete", snapshot.getString("status"), snapshot.encode());
            OpTime snapshotTs = OpTime.fromJson(snapshot.getJsonObject("ts"));

            List<Recorded> recorded = new ArrayList<>();
            recorded.add(new Recorded(snapshotTs, content(source)));
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < 60; i++) {
                    writes.one();
                }
                recorded.add(new Recorded(source.latestTs(), content(source)));
            }
            // A wall-clock target: the last write of a second, with nothing after it in that second.
            Thread.sleep(1_100 - System.currentTimeMillis() % 1000);
            writes.one();
            Recorded ofSecond = new Recorded(source.latestTs(), content(source));
            recorded.add(ofSecond);
            Thread.sleep(1_100 - System.currentTimeMillis() % 1000);
            for (int i = 0; i < 20; i++) {
                writes.one();
            }
            assertTrue(recorded.stream().map(r -> r.content().keySet()).distinct().count() > 2,
                    "the workload created, dropped and renamed collections between the recorded points");
            OpTime last = source.latestTs();
            String jobId = job(server, "pit-shop").getString("_id");
            await("capture of every write", WAIT, () -> last.equals(agent.acked())
                    && last.equals(OpTime.fromJson(job(server, "pit-shop").getJsonObject("storedTs"))));
            agent.stop();

            PointInTimeRestores restores = new PointInTimeRestores(server.config(), server.stores(), server.blocks());
            PitWindow window = restores.window(jobId).block(TIMEOUT);
            assertEquals(new PitWindow(snapshotTs, last), window);
            for (Recorded r : recorded) {
                try (PointInTimeRestoreSource restored = restores.openSource(jobId, r.ts()).block(TIMEOUT)) {
                    assertEquals(r.content(), content(restored), "restore at " + r.ts());
                }
            }
            assertEquals(ofSecond.ts(), restores.positionAt(jobId, Instant.ofEpochSecond(ofSecond.ts().seconds())).block(TIMEOUT),
                    "a wall-clock target includes every entry of its second and nothing after");

            OpTime before = new OpTime(snapshotTs.seconds() - 1, 0);
            ApiException refused = assertThrows(ApiException.class, () -> restores.open(jobId, before).block(TIMEOUT));
            assertEquals(422, refused.status());
            assertTrue(refused.getMessage().contains(window.describe()), refused.getMessage());
            // Closing a source deletes its head on the head's own thread, right after.
            await("temporary heads to be removed", WAIT, () -> {
                try (Stream<Path> left = Files.list(server.config().restoreTempPath())) {
                    return left.findAny().isEmpty();
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            });

            pushIntoAFreshDeployment(restores, jobId, recorded.get(3), source);
        }
    }

    private void pushIntoAFreshDeployment(PointInTimeRestores restores, String jobId, Recorded at, MongoShapedSource source) {
        MongoServer target = new MongoServer(new MemoryBackend());
        target.bind("127.0.0.1", 0);
        String uri = "mongodb://127.0.0.1:" + target.getLocalAddress().getPort();
        try (MongoClient client = MongoClients.create(uri);
             PointInTimeRestoreSource restored = restores.openSource(jobId, at.ts()).block(TIMEOUT)) {
            PushSummary summary = new Pusher().push(restored, uri, PushOptions.defaults(), PushProgress.NONE).block(TIMEOUT);
            Map<String, VerifyHash.Result> pushed = new TreeMap<>();
            for (String ns : summary.collections()) {
                int dot = ns.indexOf('.');
                pushed.put(ns, VerifyHash.of(client.getDatabase(ns.substring(0, dot))
                        .getCollection(ns.substring(dot + 1), RawBsonDocument.class).find().iterator()));
            }
            assertEquals(at.content(), pushed, "pushed documents");
            for (Manifest.Namespace n : restored.namespaces()) {
                Map<String, BsonDocument> expected = new LinkedHashMap<>();
                n.indexes().forEach(spec -> expected.put(spec.getString("name").getValue(), spec.getDocument("key")));
                Map<String, BsonDocument> actual = new LinkedHashMap<>();
                client.getDatabase(n.db()).getCollection(n.collection()).listIndexes(BsonDocument.class)
                        .forEach(spec -> actual.put(spec.getString("name").getValue(), spec.getDocument("key")));
                assertEquals(expected, actual, "indexes of " + n.ns());
            }
            assertTrue(summary.indexes() >= 1, summary.toJson().encode());
        } finally {
            target.shutdownNow();
        }
    }

    /** Every collection's content hash, by namespace, as the source has it. */
    private static Map<String, VerifyHash.Result> content(MongoShapedSource source) {
        Map<String, VerifyHash.Result> out = new TreeMap<>();
        for (String ns : source.namespaces()) {
            out.put(ns, VerifyHash.of(source.documents(ns).iterator()));
        }
        return out;
    }

    /** The same of a restore: collections only (the source has no views). */
    private static Map<String, VerifyHash.Result> content(PointInTimeRestoreSource restored) {
        Map<String, VerifyHash.Result> out = new TreeMap<>();
        for (Manifest.Namespace n : restored.namespaces()) {
            VerifyHash hash = new VerifyHash();
            DocumentFramer framer = new DocumentFramer(hash::add);
            restored.documents(n).doOnNext(framer::feed).blockLast(TIMEOUT);
            framer.finish();
            out.put(n.ns(), hash.result());
        }
        return out;
    }
}
