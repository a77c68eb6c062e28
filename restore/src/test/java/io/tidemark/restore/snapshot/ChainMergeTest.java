package io.tidemark.restore.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** The k-way merge of a chain against a model of it, with documents of every size around its buffer. */
class ChainMergeTest {

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
    void mergesRandomChainsLikeTheirModel() {
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
