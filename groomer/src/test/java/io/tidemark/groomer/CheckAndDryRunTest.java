package io.tidemark.groomer;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.Head;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.RetentionPolicies;
import io.tidemark.shared.snapshots.RetentionPolicy;
import io.tidemark.snapshotter.SnapshotTaker;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckAndDryRunTest {

    @TempDir
    static Path shared;

    static GroomFixture fx;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        fx = new GroomFixture(shared.resolve("data"), Map.of("TIDEMARK_GROOM_BLOCKGRACEMINUTES", "0"));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    /** A job with {@code versions} snapshots of successive versions of a head; returns the job id. */
    private String jobWithSnapshots(FencedBlockStore store, int versions) {
        return jobWithSnapshots(store, versions, true);
    }

    /**
     * With {@code settle}, a first sweep runs before the test's: a sweep keeps what snapshots
     * touched since the previous sweep (see BlockFence), and the test's sweep should see all.
     */
    private String jobWithSnapshots(FencedBlockStore store, int versions, boolean settle) {
        String job = fx.activeJob("job-" + System.nanoTime(), OpTime.ZERO, OpTime.ZERO, OpTime.ZERO);
        SnapshotTaker taker = TestHeads.taker(fx, store);
        try (Head head = TestHeads.open(dir.resolve("head-" + job))) {
            for (int v = 0; v < versions; v++) {
                TestHeads.write(head, v);
                taker.take(job, head).block(TIMEOUT);
            }
        }
        if (settle) {
            fx.clock.set(Instant.now());
            GroomReport first = fx.groomer(store).groom(job, false, Groomer.Sweep.ALWAYS);
            assertEquals(List.of(), first.expired());
        }
        return job;
    }

    @Test
    void checkNamesAMissingAndACorruptedBlock() throws Exception {
        FencedBlockStore store = fx.blockStore(dir);
        String job = jobWithSnapshots(store, 2);
        SnapshotChecker checker = fx.checker(store);
        assertTrue(checker.check(job, true).ok());

        String latest = await(fx.catalog.latestComplete(job)).getString("_id");
        List<BlockRef> refs = fx.manifests.allRefs(latest).collectList().block(TIMEOUT);
        BlockId missing = refs.get(1).id();
        BlockId corrupt = refs.get(refs.size() - 2).id();
        FilesystemBlockStore fs = (FilesystemBlockStore) store.delegate();
        Files.delete(fs.pathOf(missing));
        byte[] bytes = Files.readAllBytes(fs.pathOf(corrupt));
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(fs.pathOf(corrupt), bytes);

        SnapshotChecker.Report quick = checker.check(job, false);
        assertFalse(quick.ok());
        assertTrue(quick.problems().stream().allMatch(p -> p.block().equals(missing.hex()) && p.problem().equals("missing block")),
                quick.toJson().encodePrettily());
        assertTrue(quick.problems().stream().anyMatch(p -> p.snapshot().equals(latest) && p.namespace().equals("app.items")));

        SnapshotChecker.Report full = checker.check(job, true);
        assertTrue(full.problems().stream().anyMatch(p -> p.block().equals(missing.hex()) && p.problem().equals("missing block")));
        assertTrue(full.problems().stream().anyMatch(p -> p.block().equals(corrupt.hex()) && p.problem().startsWith("corrupt block")),
                full.toJson().encodePrettily());
    }

    @Test
    void aFlippedByteInAManifestPageDamagesThatPageOnly() {
        FencedBlockStore store = fx.blockStore(dir);
        String job = jobWithSnapshots(store, 2);
        SnapshotChecker checker = fx.checker(store);
        String latest = await(fx.catalog.latestComplete(job)).getString("_id");
        com.mongodb.reactivestreams.client.MongoCollection<org.bson.BsonDocument> pages = fx.stores.blockstore().database()
                .getCollection(io.tidemark.shared.snapshots.ManifestStore.PAGES, org.bson.BsonDocument.class);
        org.bson.BsonDocument page = reactor.core.publisher.Mono.from(pages.find(
                com.mongodb.client.model.Filters.eq("snapshot", latest)).first()).block(TIMEOUT);
        byte[] packed = page.getBinary("refs").getData();
        packed[packed.length / 2] ^= 0x04;
        reactor.core.publisher.Mono.from(pages.replaceOne(com.mongodb.client.model.Filters.eq("_id", page.get("_id")),
                page.append("refs", new org.bson.BsonBinary(packed)))).block(TIMEOUT);

        SnapshotChecker.Report report = checker.check(job, true);
        assertFalse(report.ok());
        assertEquals(List.of(latest), report.damagedSnapshots().stream().map(SnapshotChecker.DamagedSnapshot::snapshot).toList(),
                "only the snapshot whose page was damaged: " + report.toJson().encodePrettily());
        assertEquals(0, report.missingBlocks() + report.corruptBlocks(), "no block is blamed for a damaged page");
        assertTrue(report.problems().stream().allMatch(p -> p.kind().equals("manifest") && p.snapshot().equals(latest)
                && "app.items".equals(p.namespace())), report.toJson().encodePrettily());
        assertTrue(report.problems().get(0).problem().contains(page.getString("_id").getValue() + " is corrupt"),
                report.toJson().encodePrettily());
    }

    @Test
    void aDryRunDeletesNothingAndTheRealGroomDoesWhatItSaid() {
        FencedBlockStore store = fx.blockStore(dir);
        String job = jobWithSnapshots(store, 4);
        await(new RetentionPolicies(fx.stores.metadata()).put(job, new RetentionPolicy(24, 1, 0, 0, 1)));
        fx.clock.set(Instant.now().plus(Duration.ofHours(36)));
        Groomer groomer = fx.groomer(store);
        long blocksBefore = store.list().count().block(TIMEOUT);
        List<JsonObject> before = await(fx.catalog.list(job, false));

        GroomReport dry = groomer.groom(job, true, Groomer.Sweep.ALWAYS);
        assertEquals(2, dry.expired().size(), "the middle two snapshots would expire");
        assertTrue(dry.blocksDeleted() > 0 && dry.reclaimedBytes() > 0, dry.toJson().encodePrettily());
        assertEquals(blocksBefore, store.list().count().block(TIMEOUT), "a dry run deletes no block");
        assertEquals(before, await(fx.catalog.list(job, false)), "nor any snapshot");
        assertTrue(fx.checker(store).check(job, true).ok());

        GroomReport real = groomer.groom(job, false, Groomer.Sweep.ALWAYS);
        assertEquals(dry.expired(), real.expired());
        assertEquals(dry.blocksDeleted(), real.blocksDeleted());
        assertEquals(dry.reclaimedBytes(), real.reclaimedBytes());
        assertEquals(blocksBefore - real.blocksDeleted(), store.list().count().block(TIMEOUT));
        assertEquals(2, await(fx.catalog.list(job, false)).size());
        assertTrue(fx.checker(store).check(job, true).ok());
    }

    @Test
    void onThePackedStoreASweepReclaimsPacksAndTheKeptSnapshotsStillReadInFull() {
        // Packs of about eight of the test heads' blocks, so expiring snapshots empties whole packs.
        Path root = dir.resolve("packed");
        PackBlockStore packs = new PackBlockStore(root, fx.io, 64 << 10);
        try {
            FencedBlockStore store = new FencedBlockStore(packs, new BlockFence(20, 0));
            String job = jobWithSnapshots(store, 4);
            await(new RetentionPolicies(fx.stores.metadata()).put(job, new RetentionPolicy(24, 1, 0, 0, 1)));
            fx.clock.set(Instant.now().plus(Duration.ofHours(36)));
            long blocksBefore = store.list().count().block(TIMEOUT);
            long bytesBefore = store.storedBytes().block(TIMEOUT);
            int packsBefore = packs.packCount();

            GroomReport report = fx.groomer(store).groom(job, false, Groomer.Sweep.ALWAYS);
            assertEquals(2, report.expired().size(), report.toJson().encodePrettily());
            assertTrue(report.blocksDeleted() > 0, report.toJson().encodePrettily());
            assertEquals(blocksBefore - report.blocksDeleted(), store.list().count().block(TIMEOUT));
            assertEquals(bytesBefore - report.reclaimedBytes(), store.storedBytes().block(TIMEOUT));
            assertTrue(packs.packCount() < packsBefore, packs.packCount() + " packs, " + packsBefore + " before");
            assertTrue(fx.checker(store).check(job, true).ok());

            // What was deleted and reclaimed stays so for the next process.
            packs.close();
            packs = new PackBlockStore(root, fx.io, 64 << 10);
            FencedBlockStore reopened = new FencedBlockStore(packs, new BlockFence(20, 0));
            assertEquals(blocksBefore - report.blocksDeleted(), reopened.list().count().block(TIMEOUT));
            assertTrue(fx.checker(reopened).check(job, true).ok());
        } finally {
            packs.close();
        }
    }

    @Test
    void theVerticleGroomsOnRequestAndAnnouncesIt() throws Exception {
        FencedBlockStore store = fx.blockStore(dir);
        String job = jobWithSnapshots(store, 3);
        await(new RetentionPolicies(fx.stores.metadata()).put(job, new RetentionPolicy(24, 1, 0, 0, 1)));
        fx.clock.set(Instant.now().plus(Duration.ofHours(36)));
        CompletableFuture<JsonObject> event = new CompletableFuture<>();
        fx.vertx.eventBus().<JsonObject>consumer(Addresses.GROOM_COMPLETED, m -> {
            if (job.equals(m.body().getString("job"))) {
                event.complete(m.body());
            }
        });
        String deployment = await(fx.vertx.deployVerticle(new GroomerVerticle(fx.config, fx.stores, store, fx.clock)));
        try {
            JsonObject reply = await(fx.vertx.eventBus().<JsonObject>request(Addresses.GROOM_REQUEST,
                    new JsonObject().put("job", job).put("dryRun", false))).body();
            assertEquals(1, reply.getInteger("expired"));
            assertTrue(reply.getLong("reclaimedBytes") > 0, reply.encodePrettily());
            JsonObject announced = event.get(10, TimeUnit.SECONDS);
            assertEquals(new JsonObject().put("job", job).put("expired", 1).put("blocksDeleted", reply.getLong("blocksDeleted"))
                    .put("reclaimedBytes", reply.getLong("reclaimedBytes")).put("oplogBatchesTrimmed", 0L).put("dryRun", false),
                    announced);
            JsonObject check = await(fx.vertx.eventBus().<JsonObject>request(Addresses.GROOM_CHECK,
                    new JsonObject().put("job", job).put("readData", true))).body();
            assertTrue(check.getBoolean("ok"), check.encodePrettily());
            assertEquals(2, check.getInteger("snapshots"));
        } finally {
            await(fx.vertx.undeploy(deployment));
        }
    }
}
