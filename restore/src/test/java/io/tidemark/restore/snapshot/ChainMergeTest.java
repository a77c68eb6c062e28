package io.tidemark.restore.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.snapshots.DeltaRecords;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * The chain merge against a model: random chains of deltas (upserts of existing and new keys,
 * deletes, the same key in several levels) over a base, every level cut into blocks at random
 * places (documents and record headers split across blocks, blocks of a few bytes), merged and
 * compared byte for byte with the model's documents in key order; and chains of documents whose
 * sizes sit around the merge's output buffer, where a document that does not fit must end it.
 */
class ChainMergeTest {

    @Test
    void mergesRandomChainsLikeTheModel() {
        SplittableRandom random = new SplittableRandom(13);
        for (int round = 0; round < 40; round++) {
            TreeMap<Integer, byte[]> model = new TreeMap<>();
            int baseSize = random.nextInt(0, 400);
            for (int i = 0; i < baseSize; i++) {
                int id = 3 * i;
                model.put(id, document(id, "base", size(random)));
            }
            ByteArrayOutputStream base = new ByteArrayOutputStream();
            model.values().forEach(base::writeBytes);
            List<byte[]> levels = new ArrayList<>(); // oldest first
            int depth = random.nextInt(1, 6);
            for (int level = 0; level < depth; level++) {
                TreeMap<Integer, byte[]> changes = new TreeMap<>(); // null: a delete
                int n = random.nextInt(0, 60);
                for (int c = 0; c < n; c++) {
                    int id = random.nextInt(0, 3 * baseSize + 20);
                    boolean delete = model.containsKey(id) && random.nextInt(4) == 0;
                    changes.put(id, delete ? null : document(id, "level " + level, size(random)));
                }
                ByteArrayOutputStream records = new ByteArrayOutputStream();
                for (Map.Entry<Integer, byte[]> c : changes.entrySet()) {
                    records.writeBytes(record(c.getKey(), c.getValue()));
                    if (c.getValue() == null) {
                        model.remove(c.getKey());
                    } else {
                        model.put(c.getKey(), c.getValue());
                    }
                }
                levels.add(records.toByteArray());
            }
            List<Flux<ByteBuffer>> streams = new ArrayList<>();
            for (int level = levels.size() - 1; level >= 0; level--) {
                streams.add(blocks(levels.get(level), random));
            }
            streams.add(blocks(base.toByteArray(), random));

            ByteArrayOutputStream expected = new ByteArrayOutputStream();
            model.values().forEach(expected::writeBytes);
            assertArrayEquals(expected.toByteArray(), merge(streams, model.size()), "round " + round);
        }
    }

    @Test
    void aDocumentLargerThanAnOutputBufferComesAlone() {
        byte[] big = document(3, "base", 600_000);
        byte[] replaced = document(6, "delta", 400_000);
        ByteArrayOutputStream base = new ByteArrayOutputStream();
        base.writeBytes(document(0, "base", 100));
        base.writeBytes(big);
        base.writeBytes(document(6, "base", 100));
        SplittableRandom random = new SplittableRandom(7);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(document(0, "base", 100));
        expected.writeBytes(big);
        expected.writeBytes(replaced);
        byte[] merged = merge(List.of(blocks(record(6, replaced), random), Flux.just(ByteBuffer.wrap(base.toByteArray()))), 3);
        assertArrayEquals(expected.toByteArray(), merged);
    }

    @Test
    void refusesABaseOutOfOrderAndAWrongDocumentCount() {
        ByteArrayOutputStream base = new ByteArrayOutputStream();
        base.writeBytes(document(6, "base", 10));
        base.writeBytes(document(3, "base", 10));
        IllegalStateException order = assertThrows(IllegalStateException.class,
                () -> merge(List.of(Flux.empty(), Flux.just(ByteBuffer.wrap(base.toByteArray()))), 2));
        assertTrue(order.getMessage().contains("keys out of order"), order.getMessage());

        IllegalStateException count = assertThrows(IllegalStateException.class,
                () -> merge(List.of(Flux.just(ByteBuffer.wrap(record(3, null))),
                        Flux.just(ByteBuffer.wrap(document(3, "base", 10)))), 1));
        assertTrue(count.getMessage().contains("merges to 0 documents"), count.getMessage());
    }

    private static byte[] merge(List<Flux<ByteBuffer>> streams, long documents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ChainMerge merge = new ChainMerge(streams, "test", documents)) {
            for (ByteBuffer b = merge.next(); b != null; b = merge.next()) {
                assertTrue(b.remaining() > 0);
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.writeBytes(bytes);
            }
        }
        return out.toByteArray();
    }

    /** Mostly small documents, now and then one larger than a block of the test. */
    private static int size(SplittableRandom random) {
        return random.nextInt(10) == 0 ? random.nextInt(2_000, 20_000) : random.nextInt(0, 300);
    }

    private static byte[] document(int id, String from, int padding) {
        BsonDocument d = new BsonDocument("_id", new BsonInt32(id)).append("from", new BsonString(from))
                .append("pad", new BsonString("x".repeat(padding)));
        ByteBuffer b = new RawBsonDocument(d, new BsonDocumentCodec()).getByteBuffer().asNIO();
        byte[] bytes = new byte[b.remaining()];
        b.get(bytes);
        return bytes;
    }

    /** A delta record of {@code id}: an upsert of {@code doc}, or a delete when null. */
    private static byte[] record(int id, byte[] doc) {
        byte[] key = HeadKeys.ofDocument(document(id, "", 0), 0);
        byte[] r = new byte[DeltaRecords.HEADER_BYTES + key.length + (doc == null ? 0 : doc.length)];
        DeltaRecords.writeHeader(r, 0, doc == null ? DeltaRecords.DELETE : DeltaRecords.UPSERT, key.length);
        System.arraycopy(key, 0, r, DeltaRecords.HEADER_BYTES, key.length);
        if (doc != null) {
            System.arraycopy(doc, 0, r, DeltaRecords.HEADER_BYTES + key.length, doc.length);
        }
        return r;
    }

    /** The bytes cut at random places, as a level's blocks arrive: sometimes a few bytes, sometimes several KB. */
    private static Flux<ByteBuffer> blocks(byte[] bytes, SplittableRandom random) {
        List<ByteBuffer> blocks = new ArrayList<>();
        for (int at = 0; at < bytes.length; ) {
            int n = Math.min(bytes.length - at, random.nextInt(3) == 0 ? random.nextInt(1, 8) : random.nextInt(1, 8_000));
            byte[] block = new byte[n];
            System.arraycopy(bytes, at, block, 0, n);
            blocks.add(ByteBuffer.wrap(block));
            at += n;
        }
        assertEquals(bytes.length, blocks.stream().mapToInt(ByteBuffer::remaining).sum());
        return Flux.fromIterable(blocks);
    }


    /**
     * A delta deleting every other document of its full snapshot: each time a buffer is nearly
     * full, the next record is a delete, which must not let the document after it overflow the
     * buffer (the crash suite's restore once failed with an index out of bounds here).
     */
    @Test
    void deletesAtBufferBoundariesNeverOverflowABuffer() {
        ByteArrayOutputStream full = new ByteArrayOutputStream();
        ByteArrayOutputStream delta = new ByteArrayOutputStream();
        List<byte[]> kept = new ArrayList<>();
        for (int id = 0; id < 2_000; id++) {
            byte[] d = doc(id, 1_000 + id % 7);
            full.writeBytes(d);
            if (id % 2 == 1) {
                delta.writeBytes(delete(HeadKeys.ofDocument(d, 0)));
            } else {
                kept.add(d);
            }
        }
        assertSameDocuments(kept, merged(List.of(Flux.just(ByteBuffer.wrap(delta.toByteArray())),
                Flux.just(ByteBuffer.wrap(full.toByteArray()))), kept.size()), "the merge");
    }

    @Test
    void aDeleteAheadOfADocumentThatDoesNotFitStillEndsTheBuffer() {
        // Found by the crash suite: after a 200 KB document the queue's head was a delete (it adds
        // nothing), so the 100 KB document behind it was copied into a full buffer.
        byte[] one = doc(1, 200_000);
        byte[] two = doc(2, 10);
        byte[] three = doc(3, 100_000);
        List<Flux<ByteBuffer>> levels = List.of(
                Flux.just(ByteBuffer.wrap(delete(HeadKeys.ofDocument(two, 0)))),
                Flux.just(ByteBuffer.wrap(concat(List.of(one, two, three)))));
        assertSameDocuments(List.of(one, three), merged(levels, 2), "the merge");
    }

    @Test
    void mergesChainsOfDocumentsAroundTheBufferSize() {
        SplittableRandom random = new SplittableRandom(20261204);
        for (int round = 0; round < 40; round++) {
            Map<byte[], byte[]> model = new TreeMap<>(HeadKeys::compare);
            int depth = 1 + random.nextInt(5);
            List<List<byte[]>> oldestFirst = new ArrayList<>();
            for (int level = 0; level < depth; level++) {
                TreeMap<byte[], byte[]> records = new TreeMap<>(HeadKeys::compare);
                int count = 1 + random.nextInt(30);
                for (int i = 0; i < count; i++) {
                    int id = random.nextInt(60);
                    boolean delete = level > 0 && random.nextInt(3) == 0;
                    byte[] d = doc(id, sizeNear(random));
                    byte[] key = HeadKeys.ofDocument(d, 0);
                    records.put(key, delete ? null : d);
                }
                List<byte[]> encoded = new ArrayList<>();
                for (Map.Entry<byte[], byte[]> r : records.entrySet()) {
                    if (level == 0) {
                        encoded.add(r.getValue());
                    } else {
                        encoded.add(r.getValue() == null ? delete(r.getKey()) : upsert(r.getKey(), r.getValue()));
                    }
                    if (r.getValue() == null) {
                        model.remove(r.getKey());
                    } else {
                        model.put(r.getKey(), r.getValue());
                    }
                }
                oldestFirst.add(encoded);
            }
            List<Flux<ByteBuffer>> newestFirst = new ArrayList<>();
            for (int level = depth - 1; level >= 0; level--) {
                newestFirst.add(Flux.fromIterable(chunks(concat(oldestFirst.get(level)), random)));
            }
            assertSameDocuments(new ArrayList<>(model.values()), merged(newestFirst, model.size()), "round " + round);
        }
    }

    private static void assertSameDocuments(List<byte[]> expected, List<byte[]> actual, String what) {
        assertEquals(expected.size(), actual.size(), what + ": documents");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), what + ": document " + i);
        }
    }

    private static List<byte[]> merged(List<Flux<ByteBuffer>> levels, long expected) {
        List<byte[]> out = new ArrayList<>();
        try (ChainMerge merge = new ChainMerge(levels, "test chain", expected)) {
            for (ByteBuffer b = merge.next(); b != null; b = merge.next()) {
                assertTrue(b.remaining() > 0);
                while (b.hasRemaining()) {
                    int n = b.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
                    byte[] d = new byte[n];
                    b.get(d);
                    out.add(d);
                }
            }
        }
        return out;
    }

    /** Sizes clustered around the merge's 256 KiB buffer and its fractions, where the edges are. */
    private static int sizeNear(SplittableRandom random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt(200);
            case 1 -> 60_000 + random.nextInt(80_000);
            case 2 -> 120_000 + random.nextInt(20_000);
            default -> 250_000 + random.nextInt(20_000);
        };
    }

    private static List<ByteBuffer> chunks(byte[] all, SplittableRandom random) {
        List<ByteBuffer> out = new ArrayList<>();
        for (int off = 0; off < all.length; ) {
            int n = Math.min(all.length - off, 1 + random.nextInt(300_000));
            out.add(ByteBuffer.wrap(all, off, n).slice());
            off += n;
        }
        return out;
    }

    private static byte[] doc(int id, int pad) {
        BsonDocument d = new BsonDocument("_id", new BsonInt32(id)).append("pad", new BsonString("x".repeat(pad)));
        ByteBuffer b = new RawBsonDocument(d, new BsonDocumentCodec()).getByteBuffer().asNIO();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static byte[] upsert(byte[] key, byte[] doc) {
        byte[] r = new byte[DeltaRecords.HEADER_BYTES + key.length + doc.length];
        DeltaRecords.writeHeader(r, 0, DeltaRecords.UPSERT, key.length);
        System.arraycopy(key, 0, r, DeltaRecords.HEADER_BYTES, key.length);
        System.arraycopy(doc, 0, r, DeltaRecords.HEADER_BYTES + key.length, doc.length);
        return r;
    }

    private static byte[] delete(byte[] key) {
        byte[] r = new byte[DeltaRecords.HEADER_BYTES + key.length];
        DeltaRecords.writeHeader(r, 0, DeltaRecords.DELETE, key.length);
        System.arraycopy(key, 0, r, DeltaRecords.HEADER_BYTES, key.length);
        return r;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
