package io.tidemark.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.restore.archive.StrictArchiveReader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** The archive stream over sources that cut their bytes anywhere, read back by the strict reader. */
class ArchiveStreamTest {

    private static final Scheduler CPU = Schedulers.newParallel("archive-test", 2, true);

    @AfterAll
    static void stop() {
        CPU.dispose();
    }

    /** A source whose documents are cut into buffers at random places, down to single bytes. */
    static final class CutSource implements RestoreSource {
        final List<Manifest.Namespace> namespaces = new ArrayList<>();
        final Map<String, List<byte[]>> documents = new LinkedHashMap<>();
        final long seed;
        final AtomicLong maxOutstanding = new AtomicLong();
        final AtomicInteger closed = new AtomicInteger();
        int truncateLastBy;

        CutSource(long seed) {
            this.seed = seed;
        }

        void add(String db, String coll, String type, BsonDocument options, List<BsonDocument> indexes, List<byte[]> docs) {
            long bytes = docs.stream().mapToLong(d -> d.length).sum();
            namespaces.add(new Manifest.Namespace(namespaces.size(), db, coll, type,
                    type.equals("view") ? null : UUID.nameUUIDFromBytes((db + coll).getBytes()), options, indexes,
                    docs.size(), bytes, 0, 0, 0));
            documents.put(db + "." + coll, docs);
        }

        @Override
        public OpTime ts() {
            return new OpTime(1_700_000_000L, 3);
        }

        @Override
        public List<Manifest.Namespace> namespaces() {
            return namespaces;
        }

        @Override
        public long logicalBytes() {
            return namespaces.stream().mapToLong(Manifest.Namespace::logicalBytes).sum();
        }

        @Override
        public Flux<ByteBuffer> documents(Manifest.Namespace ns) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            documents.get(ns.ns()).forEach(all::writeBytes);
            byte[] bytes = all.toByteArray();
            int end = bytes.length - (ns.index() == namespaces.size() - 1 ? truncateLastBy : 0);
            SplittableRandom random = new SplittableRandom(seed + ns.index());
            List<ByteBuffer> cuts = new ArrayList<>();
            for (int at = 0; at < end; ) {
                int n = Math.min(end - at, random.nextInt(4) == 0 ? 1 + random.nextInt(3) : 1 + random.nextInt(3000));
                // a buffer that is a view into a bigger array, as block buffers may be
                byte[] padded = new byte[n + 10];
                System.arraycopy(bytes, at, padded, 5, n);
                cuts.add(ByteBuffer.wrap(padded, 5, n));
                at += n;
            }
            AtomicLong outstanding = new AtomicLong();
            return Flux.fromIterable(cuts)
                    .doOnRequest(r -> maxOutstanding.accumulateAndGet(outstanding.addAndGet(Math.min(r, 1 << 20)), Math::max))
                    .doOnNext(b -> outstanding.decrementAndGet());
        }

        @Override
        public void close() {
            closed.incrementAndGet();
        }
    }

    static byte[] doc(int i, SplittableRandom random) {
        BsonDocument d = new BsonDocument("_id", new BsonInt32(i))
                .append("name", new BsonString("n" + i))
                .append("blob", new BsonBinary(new byte[random.nextInt(600)]));
        RawBsonDocument raw = new RawBsonDocument(d, new BsonDocumentCodec());
        return Arrays.copyOf(raw.getByteBuffer().array(), raw.getByteBuffer().remaining());
    }

    static CutSource source(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        CutSource s = new CutSource(seed);
        List<BsonDocument> indexes = List.of(BsonDocument.parse("{v: 2, key: {_id: 1}, name: '_id_'}"),
                BsonDocument.parse("{v: 2, key: {name: 1}, name: 'name_1', unique: true}"));
        List<byte[]> users = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            users.add(doc(i, random));
        }
        s.add("shop", "users", "collection", BsonDocument.parse("{validationLevel: 'moderate'}"), indexes, users);
        s.add("shop", "empty", "collection", new BsonDocument(), indexes.subList(0, 1), List.of());
        s.add("shop", "named", "view", BsonDocument.parse("{viewOn: 'users', pipeline: [{$match: {name: 'n1'}}]}"),
                List.of(), List.of());
        List<byte[]> logs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            logs.add(doc(i, random));
        }
        s.add("logs", "a.b", "collection", new BsonDocument(), indexes.subList(0, 1), logs);
        return s;
    }

    static byte[] collect(Flux<ByteBuffer> archive) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        archive.doOnNext(b -> {
            byte[] copy = new byte[b.remaining()];
            b.duplicate().get(copy);
            out.writeBytes(copy);
        }).blockLast(Duration.ofSeconds(30));
        return out.toByteArray();
    }

    @Test
    void documentsCutAnywhereComeOutWholeWithPreludeAndChecksums() {
        for (long seed = 1; seed <= 3; seed++) {
            CutSource source = source(seed);
            StrictArchiveReader.Archive archive = StrictArchiveReader.read(collect(ArchiveStream.of(source, false, CPU)));
            assertEquals(4, archive.prelude().size());
            for (Manifest.Namespace ns : source.namespaces) {
                List<byte[]> expected = source.documents.get(ns.ns());
                List<byte[]> got = archive.data(ns.ns()).documents;
                assertEquals(expected.size(), got.size(), ns.ns());
                for (int i = 0; i < expected.size(); i++) {
                    assertArrayEquals(expected.get(i), got.get(i), ns.ns() + " document " + i);
                }
            }
            var users = archive.prelude().get(0).parsedMetadata();
            assertEquals(BsonDocument.parse("{validationLevel: 'moderate'}"), users.getDocument("options"));
            assertEquals("name_1", users.getArray("indexes").get(1).asDocument().getString("name").getValue());
            assertTrue(users.getArray("indexes").get(1).asDocument().getBoolean("unique").getValue());
            assertEquals("view", archive.prelude().get(2).type());
        }
    }

    @Test
    void gzipIsOneStreamMongorestoreCanRead() {
        CutSource source = source(7);
        StrictArchiveReader.Archive archive = StrictArchiveReader.readGzip(collect(ArchiveStream.of(source, true, CPU)));
        assertEquals(2_000, archive.data("shop.users").documents.size());
        assertEquals(500, archive.data("logs.a.b").documents.size());
    }

    @Test
    void aSourceThatStopsInsideADocumentFailsTheArchive() {
        CutSource source = source(11);
        source.truncateLastBy = 3;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> collect(ArchiveStream.of(source, false, CPU)));
        assertTrue(e.getMessage().contains("logs.a.b ends inside a document"), e.getMessage());
    }

    @Test
    void bytesThatAreNotBsonFailTheArchive() {
        CutSource source = new CutSource(1);
        source.add("db", "c", "collection", new BsonDocument(), List.of(), List.of(new byte[] {2, 0, 0, 0, 0, 0, 0, 0}));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> collect(ArchiveStream.of(source, false, CPU)));
        assertTrue(e.getMessage().contains("db.c is not BSON at byte 0"), e.getMessage());
    }

    @Test
    void aSlowConsumerHoldsOnlyAFewBuffersOfTheSource() {
        CutSource source = source(5);
        long[] seen = new long[1];
        // one buffer at a time, as the HTTP side requests
        ArchiveStream.of(source, false, CPU).limitRate(1).doOnNext(b -> seen[0] += b.remaining())
                .blockLast(Duration.ofSeconds(30));
        assertTrue(seen[0] > source.logicalBytes());
        assertTrue(source.maxOutstanding.get() <= 4, "source buffers requested ahead: " + source.maxOutstanding.get());
    }
}
