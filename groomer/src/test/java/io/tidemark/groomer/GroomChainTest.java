package io.tidemark.groomer;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.Head;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.OplogApplier;
import io.tidemark.restore.snapshot.SnapshotRestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.RetentionPolicies;
import io.tidemark.shared.snapshots.RetentionPolicy;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.snapshotter.DeltaPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Grooming in the middle of delta chains while snapshots keep being taken: a policy under which
 * all but the month's first, the newest and a running snapshot's base expire, so the parents of
 * live deltas are expired again and again. After every groom the live snapshots check out; at the
 * end every listed snapshot, through its chain, restores byte for byte, the dropped parents stay
 * hidden from lists, and once their children are gone they go too.
 */
class GroomChainTest {

    private static final int SNAPSHOTS = 14;

    @TempDir
    static Path dir;

    static GroomFixture fx;

    @BeforeAll
    static void start() {
        fx = new GroomFixture(dir.resolve("data"), Map.of("TIDEMARK_GROOM_BLOCKGRACEMINUTES", "0"));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static int ts = 1;

    private static RawBsonDocument entry(String op, java.util.UUID uuid, BsonDocument o, BsonDocument o2) {
        BsonDocument e = new BsonDocument("op", new BsonString(op)).append("ns", new BsonString("app.items"))
                .append("ui", new BsonBinary(uuid, UuidRepresentation.STANDARD)).append("o", o);
        if (o2 != null) {
            e.append("o2", o2);
        }
        return new RawBsonDocument(e.append("ts", new BsonTimestamp(1_700_000_100, ts++)).append("t", new BsonInt64(1))
                .append("v", new BsonInt64(2)).append("wall", new BsonDateTime(0)), new BsonDocumentCodec());
    }

    /** Inserts, replaces and deletes at random keys of app.items. */
    private static void change(Head head, NamespaceEntry ns, TreeSet<Integer> present, Random random, int v) {
        List<RawBsonDocument> batch = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            int id = random.nextInt(3000);
            BsonDocument doc = new BsonDocument("_id", new BsonInt32(id)).append("v", new BsonInt32(v))
                    .append("pad", new BsonString("x".repeat(random.nextInt(300))));
            if (present.size() < 100 || random.nextInt(3) == 0) {
                batch.add(entry(present.add(id) ? "i" : "u", ns.uuid(), doc, new BsonDocument("_id", new BsonInt32(id))));
            } else {
                Integer victim = present.ceiling(id);
                victim = victim == null ? present.first() : victim;
                if (random.nextBoolean()) {
                    present.remove(victim);
                    batch.add(entry("d", ns.uuid(), new BsonDocument("_id", new BsonInt32(victim)), null));
                } else {
                    doc.put("_id", new BsonInt32(victim));
                    batch.add(entry("u", ns.uuid(), doc, new BsonDocument("_id", new BsonInt32(victim))));
                }
            }
        }
        new OplogApplier(head).apply(batch, OplogApplier.Mode.STEADY);
    }

    private static Map<String, byte[]> restore(FencedBlockStore store, String id) {
        Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        try (SnapshotRestoreSource source = SnapshotRestoreSource.open(fx.manifests, new BlockReader(store, 2), id).block(TIMEOUT)) {
            for (Manifest.Namespace n : source.namespaces()) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                source.documents(n).doOnNext(buf -> {
                    byte[] copy = new byte[buf.remaining()];
                    buf.duplicate().get(copy);
                    b.writeBytes(copy);
                }).blockLast(TIMEOUT);
                out.put(n.ns(), b.toByteArray());
            }
        }
        return out;
    }

    @Test
    void groomsInTheMiddleOfChainsUnderConcurrentSnapshotsLoseNothing() throws Exception {
        FencedBlockStore store = fx.blockStore(dir);
        SnapshotTaker taker = new SnapshotTaker(store, fx.manifests, fx.catalog, fx.cpu, fx.io, TestHeads.OPTIONS,
                new DeltaPolicy(true, 5, 10.0));
        Groomer groomer = fx.groomer(store);
        SnapshotChecker checker = fx.checker(store);
        String job = fx.activeJob("chains-" + System.nanoTime(), OpTime.ZERO, OpTime.ZERO, OpTime.ZERO);
        await(new RetentionPolicies(fx.stores.metadata()).put(job, new RetentionPolicy(24, 1, 0, 0, 1)));
        fx.clock.set(Instant.now().plus(Duration.ofHours(36)));

        Map<String, Map<String, byte[]>> expected = new ConcurrentHashMap<>();
        List<Manifest.Chain> chains = new ArrayList<>();
        AtomicBoolean snapshotting = new AtomicBoolean(true);
        List<Throwable> groomFailures = new CopyOnWriteArrayList<>();
        AtomicLong grooms = new AtomicLong();
        Thread groomThread = new Thread(() -> {
            try {
                while (snapshotting.get()) {
                    groomer.groom(job, false, Groomer.Sweep.ALWAYS);
                    grooms.incrementAndGet();
                    SnapshotChecker.Report check = checker.check(job, false);
                    if (!check.ok()) {
                        throw new AssertionError("after groom " + grooms.get() + ": " + check.toJson().encodePrettily());
                    }
                }
            } catch (Throwable t) {
                groomFailures.add(t);
            }
        }, "test-groomer");

        Random random = new Random(29);
        TreeSet<Integer> present = new TreeSet<>();
        try (Head head = TestHeads.open(dir.resolve("head"))) {
            NamespaceEntry ns = head.catalog().byName("app.items").orElseThrow();
            groomThread.start();
            for (int v = 0; v < SNAPSHOTS && groomFailures.isEmpty(); v++) {
                change(head, ns, present, random, v);
                Map<String, byte[]> content = TestHeads.content(head);
                String id = SnapshotTaker.newSnapshotId();
                expected.put(id, content);
                SnapshotSummary s = taker.take(job, head, id).block(TIMEOUT);
                chains.add(s.manifest().chain());
            }
            snapshotting.set(false);
            groomThread.join(TIMEOUT.toMillis());
        }
        assertTrue(groomFailures.isEmpty(), () -> "grooms failed: " + groomFailures);
        assertTrue(chains.stream().filter(Manifest.Chain::isDelta).count() >= SNAPSHOTS / 2, "deltas taken: " + chains);
        assertTrue(grooms.get() >= 2, "grooms ran while snapshots did: " + grooms.get());

        groomer.groom(job, false, Groomer.Sweep.ALWAYS);
        List<JsonObject> listed = await(fx.catalog.list(job, false));
        assertTrue(listed.size() >= 2 && listed.size() <= 3, "retention as users see it: " + listed.size());
        for (JsonObject e : listed) {
            String id = e.getString("_id");
            Map<String, byte[]> restored = restore(store, id);
            for (Map.Entry<String, byte[]> ns : expected.get(id).entrySet()) {
                assertArrayEquals(ns.getValue(), restored.get(ns.getKey()), id + " " + SnapshotCatalog.view(e));
            }
        }
        SnapshotChecker.Report report = checker.check(job, true);
        assertTrue(report.ok(), report.toJson().encodePrettily());
        List<JsonObject> all = await(fx.catalog.list(job, true));
        long chainBases = all.stream().filter(e -> e.getBoolean("chainBase", false)).count();
        assertTrue(chainBases > 0, "parents of the newest delta are kept hidden: " + all);

        // check validates whole chains: a delta whose parent's manifest is gone is reported.
        String base = all.stream().filter(e -> e.getBoolean("chainBase", false)).findFirst().orElseThrow().getString("_id");
        Manifest kept = fx.manifests.read(base).block(TIMEOUT);
        fx.manifests.delete(base).block(TIMEOUT);
        SnapshotChecker.Report broken = checker.check(job, false);
        assertTrue(broken.problems().stream().anyMatch(p -> p.kind().equals("chain") && p.problem().contains(base)),
                broken.toJson().encodePrettily());
        fx.manifests.writeHeader(kept).block(TIMEOUT); // its pages are gone: delete it for good below

        // A full snapshot on top, then a groom: the chain under it is no longer needed and goes.
        try (Head head = Head.open(dir.resolve("head"))) {
            taker.take(job, head, SnapshotTaker.newSnapshotId(), true, () -> { }).block(TIMEOUT);
        }
        fx.clock.advance(Duration.ofHours(1));
        groomer.groom(job, false, Groomer.Sweep.ALWAYS);
        long left = await(fx.catalog.list(job, true)).stream().filter(e -> e.getBoolean("chainBase", false)).count();
        assertEquals(0, left, "chain bases nothing builds on are deleted");
    }
}
