package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.oplog.OpTime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.UUID;

import org.bson.BsonArray;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batches are written on a commit thread while the next is staged, and updates read documents from
 * the document cache. Both must be invisible: a head fed a long mixed oplog in large calls must end
 * exactly like one fed the same oplog a few entries at a time with no cache.
 */
class PipelinedApplyTest {
    private static final int T = 1_700_000_000;

    @TempDir
    Path dir;

    /** A random but valid oplog on db.a and db.b (dropped and created again now and then). */
    private static final class Workload {
        final List<RawBsonDocument> entries = new ArrayList<>();
        final UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        private final UUID bAtStart = b;
        private final Map<String, List<Integer>> ids = new TreeMap<>(Map.of("a", new ArrayList<>(), "b", new ArrayList<>()));
        private final SplittableRandom r;
        private int nextId;

        Workload(long seed, int n) {
            r = new SplittableRandom(seed);
            while (entries.size() < n) {
                if (entries.size() % 3_001 == 3_000) {
                    recreateB();
                    continue;
                }
                String coll = r.nextInt(3) == 0 ? "b" : "a";
                List<Integer> live = ids.get(coll);
                int kind = live.size() < 50 ? 0 : r.nextInt(10);
                if (kind <= 2) {
                    int id = nextId++;
                    live.add(id);
                    BsonDocument d = new BsonDocument("_id", new BsonInt32(id)).append("n", new BsonInt32(0))
                            .append("s", new BsonString("x".repeat(r.nextInt(200))))
                            .append("arr", new BsonArray(List.of(new BsonInt32(1), new BsonInt32(2))));
                    add("i", coll, d, new BsonDocument("_id", new BsonInt32(id)));
                } else if (kind <= 7) {
                    int id = live.get(r.nextInt(live.size()));
                    BsonDocument diff = new BsonDocument("u", new BsonDocument("n", new BsonInt32(r.nextInt(1000))));
                    if (r.nextBoolean()) {
                        diff.append("i", new BsonDocument("f" + r.nextInt(5), new BsonString("y".repeat(r.nextInt(300)))));
                    }
                    add("u", coll, new BsonDocument("$v", new BsonInt32(2)).append("diff", diff), new BsonDocument("_id", new BsonInt32(id)));
                } else if (kind == 8) {
                    int id = live.get(r.nextInt(live.size()));
                    add("u", coll, new BsonDocument("_id", new BsonInt32(id)).append("replaced", new BsonInt32(r.nextInt())),
                            new BsonDocument("_id", new BsonInt32(id)));
                } else {
                    int id = live.remove(r.nextInt(live.size()));
                    add("d", coll, new BsonDocument("_id", new BsonInt32(id)), null);
                }
            }
        }

        private void recreateB() {
            entries.add(entry(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("db.$cmd"))
                    .append("ui", uuid(b)).append("o", new BsonDocument("drop", new BsonString("b")))
                    .append("o2", new BsonDocument("numRecords", new BsonInt64(ids.get("b").size())))));
            ids.get("b").clear();
            b = UUID.randomUUID();
            entries.add(entry(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("db.$cmd"))
                    .append("ui", uuid(b)).append("o", new BsonDocument("create", new BsonString("b"))
                            .append("idIndex", new BsonDocument("v", new BsonInt32(2))
                                    .append("key", new BsonDocument("_id", new BsonInt32(1))).append("name", new BsonString("_id_"))))));
        }

        private void add(String op, String coll, BsonDocument o, BsonDocument o2) {
            BsonDocument e = new BsonDocument("op", new BsonString(op)).append("ns", new BsonString("db." + coll))
                    .append("ui", uuid(coll.equals("a") ? a : b)).append("o", o);
            if (o2 != null) {
                e.append("o2", o2);
            }
            entries.add(entry(e));
        }

        private RawBsonDocument entry(BsonDocument e) {
            int i = entries.size() + 1;
            // Odd increments only: a test can slip an entry in between two.
            e.append("ts", new BsonTimestamp(T + i / 1000, 2 * (i % 1000) + 1)).append("t", new BsonInt64(1))
                    .append("v", new BsonInt64(2)).append("wall", new BsonDateTime(i));
            return new RawBsonDocument(e, new BsonDocumentCodec());
        }

        private static BsonBinary uuid(UUID u) {
            return new BsonBinary(u, UuidRepresentation.STANDARD);
        }

        void createNamespaces(Head head) {
            head.createNamespace("db", "a", a, NamespaceType.COLLECTION, null, List.of());
            head.createNamespace("db", "b", bAtStart, NamespaceType.COLLECTION, null, List.of());
        }

    }

    /** Namespace → (uuid, count, content hash), and the position: everything a head's state is. */
    private static Map<String, Object> state(Head head) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("position", head.appliedPosition());
        try (HeadView view = head.openView()) {
            out.put("term", view.term());
            for (NamespaceEntry n : head.catalog().namespaces()) {
                out.put(n.ns(), List.of(String.valueOf(n.uuid()), head.documentCount(n.id()), VerifyHash.of(view, n.id())));
            }
        }
        return out;
    }

    private static void applyInSlices(OplogApplier applier, List<RawBsonDocument> entries, SplittableRandom sizes, int maxSlice) {
        for (int i = 0; i < entries.size(); ) {
            int to = Math.min(entries.size(), i + 1 + sizes.nextInt(maxSlice));
            applier.apply(entries.subList(i, to), OplogApplier.Mode.STEADY);
            i = to;
        }
    }

    /** No cache (every read goes to a batch in flight or RocksDB), one that evicts a lot, and a roomy one. */
    @ParameterizedTest
    @ValueSource(longs = {0, 1L << 20, 32L << 20})
    void largeCallsEndExactlyLikeSmallUncachedOnes(long documentCacheBytes) {
        Workload w = new Workload(11, 20_000);
        try (HeadMemory uncached = new HeadMemory(64L << 20, 32L << 20, 0);
             HeadMemory memory = new HeadMemory(64L << 20, 32L << 20, documentCacheBytes);
             Head pipelined = Head.open(dir.resolve("pipelined"), memory);
             Head plain = Head.open(dir.resolve("plain"), uncached)) {
            w.createNamespaces(pipelined);
            w.createNamespaces(plain);
            applyInSlices(new OplogApplier(pipelined), w.entries, new SplittableRandom(1), 12_000);
            applyInSlices(new OplogApplier(plain), w.entries, new SplittableRandom(2), 40);
            Map<String, Object> expected = state(plain);
            assertEquals(expected, state(pipelined));
            assertTrue(expected.toString().contains("db.b"), expected.toString());
        }
    }

    @Test
    void aFailedEntryLeavesOnlyWrittenBatchesAndNothingCachedFromTheRest() {
        Workload w = new Workload(12, 9_000);
        // An update of a document that never existed, late in one call: divergence.
        List<RawBsonDocument> broken = new ArrayList<>(w.entries);
        int bad = 7_500;
        BsonTimestamp before = w.entries.get(bad - 1).getTimestamp("ts");
        BsonTimestamp badTs = new BsonTimestamp(before.getTime(), before.getInc() + 1);
        broken.add(bad, new RawBsonDocument(new BsonDocument("op", new BsonString("u")).append("ns", new BsonString("db.a"))
                .append("ui", new BsonBinary(w.a, UuidRepresentation.STANDARD))
                .append("o", new BsonDocument("$v", new BsonInt32(2)).append("diff", new BsonDocument("u", new BsonDocument("n", new BsonInt32(1)))))
                .append("o2", new BsonDocument("_id", new BsonInt32(-1)))
                .append("ts", badTs).append("t", new BsonInt64(1)).append("v", new BsonInt64(2)).append("wall", new BsonDateTime(0)),
                new BsonDocumentCodec()));
        try (HeadMemory uncached = new HeadMemory(64L << 20, 32L << 20, 0);
             Head head = Head.open(dir.resolve("failing"));
             Head plain = Head.open(dir.resolve("plain"), uncached)) {
            w.createNamespaces(head);
            w.createNamespaces(plain);
            OplogApplier applier = new OplogApplier(head);
            assertThrows(HeadDivergenceException.class, () -> applier.apply(broken, OplogApplier.Mode.STEADY));
            OpTime reached = head.appliedPosition();
            assertTrue(reached.toBson().compareTo(badTs) < 0, "stopped before the bad entry: " + reached);
            assertTrue(reached.toBson().compareTo(new BsonTimestamp(T, 1)) > 0, "earlier batches stay written: " + reached);

            // Up to where it stopped, the head is exactly what the entries before make it.
            int written = 0;
            while (written < w.entries.size() && w.entries.get(written).getTimestamp("ts").compareTo(reached.toBson()) <= 0) {
                written++;
            }
            OplogApplier plainApplier = new OplogApplier(plain);
            plainApplier.apply(w.entries.subList(0, written), OplogApplier.Mode.STEADY);
            assertEquals(state(plain), state(head));

            // Re-delivered without the bad entry, the rest applies on top of what was written and
            // nothing the failed call staged (or cached) shows through.
            applier.apply(w.entries, OplogApplier.Mode.STEADY);
            plainApplier.apply(w.entries.subList(written, w.entries.size()), OplogApplier.Mode.STEADY);
            assertEquals(state(plain), state(head));
        }
    }

    @Test
    void aSealedBatchThatIsNeverWrittenLeavesNothingInTheCache() {
        UUID uuid = UUID.randomUUID();
        try (Head head = Head.open(dir)) {
            NamespaceEntry ns = head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of());
            byte[] key = DocumentKeys.key(ns.id(), new BsonInt32(1));
            byte[] doc = bytes(new BsonDocument("_id", new BsonInt32(1)));
            try (StagedBatch b = new StagedBatch(head)) {
                b.put(ns.id(), key, doc, true);
                b.seal(OpTime.of(new BsonTimestamp(T, 1)), 1);
            }
            assertNull(head.cachedDocument(key), "cached from a batch that was never written");
            assertNull(head.readDocument(key));
            assertEquals(0, head.documentCount(ns.id()));
        }
    }

    private static byte[] bytes(BsonDocument d) {
        var bb = new RawBsonDocument(d, new BsonDocumentCodec()).getByteBuffer();
        byte[] out = new byte[bb.remaining()];
        bb.get(out);
        return out;
    }
}
