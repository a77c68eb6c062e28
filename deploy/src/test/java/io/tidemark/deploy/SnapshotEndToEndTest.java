package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.testing.Damage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshots through the running server and the CLI: consistent, deduplicated, listed. */
class SnapshotEndToEndTest {

    @TempDir
    Path dataDir;

    @Test
    void snapshotsOfALiveHeadAreConsistentDeduplicatedAndListed() {
        try (MongoShapedSource source = new MongoShapedSource();
             // Small chunks, so that a small head still has enough of them to show deduplication.
             TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of(
                     "TIDEMARK_SNAPSHOTS_CHUNKMINBYTES", "2048", "TIDEMARK_SNAPSHOTS_CHUNKAVGBYTES", "8192",
                     "TIDEMARK_SNAPSHOTS_CHUNKMAXBYTES", "32768")))) {
            DemoDataset data = new DemoDataset();
            data.load(source, 500, 100, 3_000, 1_000);
            DemoWorkload load = new DemoWorkload(source, data, 500, 100);
            Agent agent = CaptureHarness.startAgent(server, source.uri(), "snap-shop");
            OpTime loaded = source.latestTs();
            await("the head to apply everything", Duration.ofSeconds(60), () -> {
                JsonObject j = job(server, "snap-shop");
                return loaded.equals(OpTime.fromJson(j.getJsonObject("appliedTs")));
            });

            JsonObject first = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "snap-shop", "--wait", "--json"));
            assertEquals("complete", first.getString("status"));
            assertEquals(loaded.toJson(), first.getJsonObject("ts"), "cut at the head's applied position");
            assertTrue(first.getLong("documents") >= 4_600, first.encode());
            assertTrue(first.getLong("storedBytes") > 0 && first.getLong("logicalBytes") > first.getLong("storedBytes"), first.encode());

            JsonObject unchanged = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "snap-shop", "--wait", "--json"));
            assertEquals("unchanged", unchanged.getString("status"), "the head has not moved: " + unchanged.encode());

            // One flipped byte in the data of the first block written (bit rot under the running server):
            // check names the block corrupt, repair writes it again from the head, and all reads again.
            flipByteInFirstRecord(dataDir.resolve("blocks").resolve("packs").resolve(String.format("%016x.pack", 1)));
            CliRun.Result damaged = CliRun.runIn(dataDir, "check", "--job", "snap-shop", "--read-data");
            assertEquals(1, damaged.exit(), damaged.out());
            assertTrue(damaged.out().contains("0 block(s) missing, 1 corrupt"), damaged.out());
            assertTrue(damaged.out().contains("damaged snapshot " + first.getString("snapshotId")), damaged.out());
            JsonObject repair = new JsonObject(CliRun.okIn(dataDir, "repair", "--job", "snap-shop", "--json"));
            assertEquals(new JsonArray().add(first.getString("snapshotId")), repair.getJsonArray("repaired"), repair.encode());
            assertEquals(new JsonArray(), repair.getJsonArray("damaged"));
            assertTrue(CliRun.okIn(dataDir, "check", "--job", "snap-shop", "--read-data").contains("OK"));
            assertTrue(CliRun.okIn(dataDir, "repair", "--job", "snap-shop").contains("nothing to repair"));

            for (int i = 0; i < 10; i++) {
                load.one().block();
            }
            OpTime moved = source.latestTs();
            await("the head to apply the new writes", Duration.ofSeconds(60),
                    () -> moved.equals(OpTime.fromJson(job(server, "snap-shop").getJsonObject("appliedTs"))));
            JsonObject second = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "snap-shop", "--wait", "--json"));
            assertEquals(moved.toJson(), second.getJsonObject("ts"));
            assertTrue(second.getLong("storedBytes") < first.getLong("storedBytes") / 4,
                    "a few changes add few new bytes: " + second.getLong("storedBytes") + " vs " + first.getLong("storedBytes"));

            JsonArray listed = new JsonArray(CliRun.okIn(dataDir, "snapshots", "list", "--job", "snap-shop", "--json"));
            assertEquals(3, listed.size(), "the first, the full one repair took, the second");
            assertTrue(listed.stream().map(o -> (JsonObject) o).allMatch(s -> s.getBoolean("complete")));

            // One flipped byte in a manifest page of the second snapshot: check names that page and that
            // snapshot only; repair cannot re-create a manifest, so it marks the snapshot damaged: still
            // listed, refused by restores, and no longer what an unchanged head is answered with.
            String secondId = second.getString("snapshotId");
            String page = flipByteInFirstManifestPage(server, secondId);
            CliRun.Result pageDamaged = CliRun.runIn(dataDir, "check", "--job", "snap-shop", "--json");
            assertEquals(1, pageDamaged.exit(), pageDamaged.out());
            JsonObject report = new JsonObject(pageDamaged.out());
            assertEquals(1, report.getJsonArray("damagedSnapshots").size(), report.encodePrettily());
            assertEquals(secondId, report.getJsonArray("damagedSnapshots").getJsonObject(0).getString("snapshot"));
            JsonObject problem = report.getJsonArray("problems").getJsonObject(0);
            assertEquals("manifest", problem.getString("kind"), report.encodePrettily());
            assertTrue(problem.getString("problem").contains(page + " is corrupt"), problem.encode());
            CliRun.Result unrepaired = CliRun.runIn(dataDir, "repair", "--job", "snap-shop", "--json");
            assertEquals(1, unrepaired.exit(), unrepaired.out());
            assertEquals(new JsonArray().add(secondId), new JsonObject(unrepaired.out()).getJsonArray("damaged"));
            JsonObject listedSecond = new JsonArray(CliRun.okIn(dataDir, "snapshots", "list", "--job", "snap-shop", "--json"))
                    .stream().map(o -> (JsonObject) o).filter(o -> o.getString("id").equals(secondId)).findFirst().orElseThrow();
            assertEquals(true, listedSecond.getBoolean("damaged"), listedSecond.encode());
            assertTrue(listedSecond.getString("damage").startsWith("1 manifest problem(s); found by repair on "), listedSecond.encode());
            assertTrue(CliRun.okIn(dataDir, "snapshots", "list", "--job", "snap-shop").contains("DAMAGED: "));
            JsonObject again = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "snap-shop", "--wait", "--json"));
            assertEquals("unchanged", again.getString("status"), again.encode());
            assertTrue(!again.getString("snapshotId").equals(secondId), "answered with the repair's snapshot, not the damaged one");
            String refused = stderrOf(() -> CliRun.runIn(dataDir, "restore", "--job", "snap-shop", "--snapshot", secondId,
                    "--out", dataDir.resolve("damaged.archive").toString()));
            assertTrue(refused.contains("snapshot " + secondId + " is damaged (1 manifest problem"), refused);
            agent.stop();
            load.close();
        }
    }

    /** Flips a byte in the block references of the snapshot's first manifest page, in the embedded store; returns its id. */
    private static String flipByteInFirstManifestPage(TidemarkServer server, String snapshotId) {
        com.mongodb.reactivestreams.client.MongoCollection<org.bson.BsonDocument> pages = server.stores().blockstore()
                .database().getCollection(io.tidemark.shared.snapshots.ManifestStore.PAGES, org.bson.BsonDocument.class);
        org.bson.BsonDocument page = reactor.core.publisher.Mono.from(pages.find(
                com.mongodb.client.model.Filters.eq("snapshot", snapshotId)).first()).block(Duration.ofSeconds(10));
        byte[] refs = page.getBinary("refs").getData();
        refs[refs.length / 2] ^= 0x10;
        reactor.core.publisher.Mono.from(pages.replaceOne(com.mongodb.client.model.Filters.eq("_id", page.get("_id")),
                page.append("refs", new org.bson.BsonBinary(refs)))).block(Duration.ofSeconds(10));
        return page.getString("_id").getValue();
    }

    private static String stderrOf(Runnable r) {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(err);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    /** Flips a byte in the middle of the data of a pack's first record (its stored length is at byte 36). */
    private static void flipByteInFirstRecord(Path pack) {
        Damage.flipByte(pack, 64 + Damage.readInt(pack, 36) / 2);
    }
}
