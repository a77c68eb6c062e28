package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static io.tidemark.restore.pit.PitFixture.doc;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.restore.RestoreSource;
import io.tidemark.restore.snapshot.SnapshotRestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.snapshotter.DeltaPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.UUID;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Randomized differential test of delta snapshots: a workload of inserts, updates and deletes at
 * random keys, collections dropped and created again, an index built, with snapshots at random
 * points (chains bounded at three deltas). Every snapshot, full or delta at any depth, and points
 * in time between snapshots must restore to the head's content at that point, byte for byte.
 */
class DeltaChainTest {

    private static final long BASE = 1_700_100_000L;

    @TempDir
    Path dir;

    /** Each namespace's documents, concatenated in key order, as the live head has them now. */
    static Map<String, byte[]> content(PitFixture.Job job) {
        return content(job.head);
    }

    /** Each namespace's documents, concatenated in key order, as {@code head} has them now. */
    static Map<String, byte[]> content(io.tidemark.applier.Head head) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (HeadView view = head.openView()) {
            for (NamespaceEntry n : view.namespaces()) {
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                try (HeadView.DocumentCursor c = view.documents(n)) {
                    while (c.hasNext()) {
                        b.writeBytes(c.nextBytes());
                    }
                }
                out.put(n.ns(), b.toByteArray());
            }
        }
        return out;
    }

    static Map<String, byte[]> content(RestoreSource source) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Manifest.Namespace n : source.namespaces()) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            source.documents(n).doOnNext(buf -> {
                byte[] copy = new byte[buf.remaining()];
                buf.duplicate().get(copy);
                b.writeBytes(copy);
            }).blockLast(TIMEOUT);
            out.put(n.ns(), b.toByteArray());
        }
        return out;
    }

    static void assertSame(Map<String, byte[]> expected, Map<String, byte[]> actual, String what) {
        assertEquals(expected.keySet(), actual.keySet(), what);
        for (Map.Entry<String, byte[]> e : expected.entrySet()) {
            assertArrayEquals(e.getValue(), actual.get(e.getKey()), what + ", " + e.getKey());
        }
    }

    @Test
    void everySnapshotOfEveryChainAndPointsInTimeBetweenRestoreExactly() {
        try (PitFixture fx = new PitFixture(dir)) {
            SnapshotTaker taker = new SnapshotTaker(fx.blocks, fx.manifests, fx.catalog, fx.cpu, fx.io,
                    BlockWriter.Options.defaults().withChunking(new ChunkingParams(1024, 4096, 16384)),
                    new DeltaPolicy(true, 3, 10.0));
            PitFixture.Job job = fx.new Job("delta-a", new OpTime(BASE, 0));
            PitFixture.Entries e = new PitFixture.Entries(BASE + 1, 1000);
            Random random = new Random(13);
            Map<String, UUID> uuids = new HashMap<>(Map.of("db.a", UUID.randomUUID(), "db.b", UUID.randomUUID()));
            Map<String, TreeSet<Integer>> present = new HashMap<>(Map.of("db.a", new TreeSet<>(), "db.b", new TreeSet<>()));
            job.apply(PitFixture.list(e.create("db", "a", uuids.get("db.a")), e.create("db", "b", uuids.get("db.b"))));

            Map<String, Map<String, byte[]>> atSnapshot = new LinkedHashMap<>();
            Map<String, Manifest> manifests = new LinkedHashMap<>();
            Map<OpTime, Map<String, byte[]>> betweenSnapshots = new LinkedHashMap<>();
            int version = 0;
            for (int round = 0; round < 16; round++) {
                List<RawBsonDocument> batch = new ArrayList<>();
                if (round == 6) {
                    batch.add(e.drop("db", "b", uuids.get("db.b")));
                    uuids.put("db.b", UUID.randomUUID());
                    present.get("db.b").clear();
                    batch.add(e.create("db", "b", uuids.get("db.b")));
                }
                if (round == 9) {
                    batch.add(e.createIndex("db", "a", uuids.get("db.a"), "n", false));
                }
                for (int op = 0; op < 60; op++) {
                    String ns = random.nextInt(4) == 0 ? "db.b" : "db.a";
                    TreeSet<Integer> ids = present.get(ns);
                    int kind = ids.size() < 20 ? 0 : random.nextInt(4);
                    version++;
                    if (kind == 0) {
                        int id = random.nextInt(5000) - 1000;
                        if (ids.add(id)) {
                            batch.add(e.insert(ns, uuids.get(ns), doc(id, "v" + version + " ".repeat(random.nextInt(40)), version)));
                        }
                    } else {
                        Integer id = ids.ceiling(random.nextInt(5000) - 1000);
                        id = id == null ? ids.first() : id;
                        if (kind == 3) {
                            ids.remove(id);
                            batch.add(e.delete(ns, uuids.get(ns), id));
                        } else {
                            batch.add(e.replace(ns, uuids.get(ns), doc(id, "changed " + version, version)));
                        }
                    }
                }
                job.apply(batch);
                if (round > 0 && random.nextInt(3) != 0) {
                    SnapshotSummary s = taker.take(job.id, job.head).block(TIMEOUT);
                    atSnapshot.put(s.snapshotId(), content(job));
                    manifests.put(s.snapshotId(), s.manifest());
                } else if (!atSnapshot.isEmpty()) {
                    betweenSnapshots.put(OpTime.of(batch.get(batch.size() - 1).getTimestamp("ts")), content(job));
                }
            }

            List<Manifest.Chain> chains = manifests.values().stream().map(Manifest::chain).toList();
            assertTrue(chains.stream().anyMatch(c -> c.isDelta() && c.depth() == 3), "a chain reached its bound: " + chains);
            assertTrue(chains.stream().filter(c -> !c.isDelta()).count() >= 2, "full snapshots past the bound: " + chains);
            for (Map.Entry<String, Map<String, byte[]>> s : atSnapshot.entrySet()) {
                try (SnapshotRestoreSource source = SnapshotRestoreSource.open(fx.manifests, new BlockReader(fx.blocks, 2),
                        s.getKey()).block(TIMEOUT)) {
                    assertSame(s.getValue(), content(source), "snapshot " + s.getKey() + " " + manifests.get(s.getKey()).chain());
                }
            }
            assertTrue(betweenSnapshots.size() >= 2, "points in time between snapshots: " + betweenSnapshots.size());
            PointInTimeRestores restores = fx.restores(Clock.fixed(java.time.Instant.ofEpochSecond(BASE + 3600), java.time.ZoneOffset.UTC));
            for (Map.Entry<OpTime, Map<String, byte[]>> t : betweenSnapshots.entrySet()) {
                PointInTimeRestoreSource source = restores.openSource(job.id, t.getKey()).block(TIMEOUT);
                try {
                    assertSame(t.getValue(), content(source), "point in time " + t.getKey() + " from " + source.snapshotId());
                } finally {
                    source.closed().block(TIMEOUT);
                }
            }
            job.close();
        }
    }
}
