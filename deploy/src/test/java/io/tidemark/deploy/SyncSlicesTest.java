package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static io.tidemark.deploy.CaptureHarness.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A job's initial sync slices stay in the sync store until a snapshot can rebuild its head: a head
 * lost before the first snapshot (its daemon's disk, as in a failover) is built again from the
 * sync store and the oplog store, with no new initial sync; the first snapshot then lets the
 * slices go.
 */
class SyncSlicesTest {

    @TempDir
    Path dataDir;

    @Test
    void aHeadLostBeforeTheFirstSnapshotIsBuiltAgainFromTheSyncStoreAndTheSlicesGoOnceASnapshotExists() throws Exception {
        try (MongoShapedSource source = new MongoShapedSource()) {
            source.createCollection("shop.orders");
            insert(source, 0, 400);
            String jobId;
            long generation;
            try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()))) {
                Agent agent = CaptureHarness.startAgent(server, source.uri(), "slices-shop");
                insert(source, 400, 100); // oplog after the sync
                caughtUp(server, source);
                JsonObject j = job(server, "slices-shop");
                jobId = j.getString("_id");
                generation = j.getJsonObject("sync").getLong("generation");
                Thread.sleep(5_000); // two of the applier's scans past the sync's end
                assertTrue(server.stores().sync().collections(jobId, generation).hasElements().block(Duration.ofSeconds(30)),
                        "no snapshot yet: the slices stay");
                assertFalse(job(server, "slices-shop").getJsonObject("sync").getBoolean("consumed", false));
                join(agent.stop());
            }
            deleteTree(dataDir.resolve("heads").resolve(jobId));
            insert(source, 500, 100); // written while no head existed
            try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()))) {
                Agent agent = CaptureHarness.startAgent(server, source.uri(), "slices-shop");
                caughtUp(server, source);
                CliRun.okIn(dataDir, "verify", "--job", "slices-shop", "--source", source.uri());
                assertEquals(generation, job(server, "slices-shop").getJsonObject("sync").getLong("generation"), "no new initial sync");

                JsonObject snap = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "slices-shop", "--wait", "--json"));
                assertEquals("complete", snap.getString("status"), snap.encode());
                await("the slices to go once a snapshot can rebuild the head", Duration.ofSeconds(30), () ->
                        !server.stores().sync().collections(jobId, generation).hasElements().block(Duration.ofSeconds(30))
                                && job(server, "slices-shop").getJsonObject("sync").getBoolean("consumed", false));
                join(agent.stop());
            }
        }
    }

    private static void caughtUp(TidemarkServer server, MongoShapedSource source) {
        OpTime latest = source.latestTs();
        await("the head to apply everything", Duration.ofSeconds(60), () -> {
            JsonObject j = job(server, "slices-shop");
            return j.getJsonObject("appliedTs") != null && !latest.isAfter(OpTime.fromJson(j.getJsonObject("appliedTs")));
        });
    }

    private static void insert(MongoShapedSource source, int from, int n) {
        List<Document> docs = new ArrayList<>();
        for (int i = from; i < from + n; i++) {
            docs.add(new Document("_id", (long) i).append("item", "sku-" + i).append("qty", i % 7));
        }
        source.insertMany("shop.orders", docs);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
