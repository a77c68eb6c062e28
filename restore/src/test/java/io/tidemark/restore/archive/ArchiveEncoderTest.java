package io.tidemark.restore.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.Test;

/** Misuse the encoder refuses, because the archive would otherwise fail or stall in mongorestore. */
class ArchiveEncoderTest {

    static final Namespace A = Namespace.of("db", "a");
    static final Namespace B = Namespace.of("db", "b");
    static final Namespace C = Namespace.of("db", "c");
    static final byte[] DOC = Bson.bytes("{_id: 1}");

    static CollectionMetadata plain(Namespace ns) {
        return CollectionMetadata.collection(ns, new BsonDocument(), List.of(ArchiveRoundTripTest.idIndex()), null);
    }

    static ArchiveEncoder started(int concurrent, CollectionMetadata... collections) {
        ArchiveEncoder enc = new ArchiveEncoder(new ArchiveHeader(concurrent, "7.0.0", "t"), List.of(collections));
        enc.prelude();
        return enc;
    }

    @Test
    void preludeFirstAndOnce() {
        ArchiveEncoder enc = new ArchiveEncoder(new ArchiveHeader(1, "7.0.0", "t"), List.of(plain(A)));
        assertThrows(IllegalStateException.class, () -> enc.beginBlock(A));
        enc.prelude();
        assertThrows(IllegalStateException.class, enc::prelude);
    }

    @Test
    void documentsOnlyInsideASegmentAndWellFramed() {
        ArchiveEncoder enc = started(1, plain(A));
        assertThrows(IllegalStateException.class, () -> enc.document(DOC));
        enc.beginBlock(A);
        assertThrows(IllegalStateException.class, () -> enc.beginBlock(A));
        byte[] wrongLength = DOC.clone();
        wrongLength[0]++;
        assertThrows(IllegalArgumentException.class, () -> enc.document(wrongLength));
        byte[] noNul = DOC.clone();
        noNul[noNul.length - 1] = 1;
        assertThrows(IllegalArgumentException.class, () -> enc.document(noNul));
        assertThrows(IllegalArgumentException.class, () -> enc.document(new byte[] {4, 0, 0, 0}));
        assertThrows(IllegalArgumentException.class, () -> enc.document(new byte[ArchiveEncoder.MAX_BSON_SIZE + 1]));
        enc.document(DOC);
        assertEquals(1, enc.documentCount(A));
    }

    @Test
    void namespacesMustBeInThePreludeAndEndExactlyOnce() {
        ArchiveEncoder enc = started(2, plain(A), plain(B));
        assertThrows(IllegalArgumentException.class, () -> enc.beginBlock(C));
        enc.beginBlock(A);
        assertThrows(IllegalStateException.class, () -> enc.endNamespace(B), "A's segment is open");
        enc.endNamespace(A);
        assertThrows(IllegalStateException.class, () -> enc.beginBlock(A));
        assertThrows(IllegalStateException.class, () -> enc.endNamespace(A));
        assertThrows(IllegalStateException.class, enc::finish, "B has no EOF yet");
        enc.endNamespace(B);
        enc.finish();
        assertThrows(IllegalStateException.class, () -> enc.beginBlock(B));
    }

    @Test
    void noMoreOpenNamespacesThanConcurrentCollections() {
        ArchiveEncoder enc = started(2, plain(A), plain(B), plain(C));
        enc.beginBlock(A);
        enc.endBlock();
        enc.beginBlock(B);
        enc.endBlock();
        assertThrows(IllegalStateException.class, () -> enc.beginBlock(C));
        assertThrows(IllegalStateException.class, () -> enc.endNamespace(C), "an empty segment opens it too");
        enc.endNamespace(A);
        enc.beginBlock(C);
    }

    @Test
    void oplogOnlyAfterEverythingElse() {
        Namespace oplog = Namespace.of("", "oplog");
        ArchiveEncoder enc = started(4, plain(A), CollectionMetadata.oplog(), plain(B));
        enc.beginBlock(A);
        enc.endBlock();
        assertThrows(IllegalStateException.class, () -> enc.beginBlock(oplog));
        enc.endNamespace(A);
        enc.endNamespace(B);
        enc.beginBlock(oplog);
        enc.document(DOC);
        enc.endNamespace(oplog);
        enc.finish();
    }

    @Test
    void preludeRejectsDuplicatesAndBucketClashes() {
        ArchiveHeader h = new ArchiveHeader(1, "7.0.0", "t");
        assertThrows(IllegalArgumentException.class, () -> new ArchiveEncoder(h, List.of(plain(A), plain(A))));
        assertThrows(IllegalArgumentException.class, () -> plain(Namespace.of("db", "system.buckets.w")));
        CollectionMetadata ts = CollectionMetadata.timeseries(Namespace.of("db", "w"),
                BsonDocument.parse("{timeseries: {timeField: 't'}}"), List.of(), null);
        CollectionMetadata plainW = plain(Namespace.of("db", "w"));
        ArchiveHeader h83 = new ArchiveHeader(1, "8.3.0", "t");
        assertThrows(IllegalArgumentException.class, () -> new ArchiveEncoder(h83, List.of(ts, plainW)));
    }

    @Test
    void metadataValidation() {
        assertThrows(IllegalArgumentException.class, () -> CollectionMetadata.view(A, BsonDocument.parse("{viewOn: 'x'}")));
        assertThrows(IllegalArgumentException.class, () -> CollectionMetadata.timeseries(A, new BsonDocument(), List.of(), null));
        assertThrows(IllegalArgumentException.class,
                () -> CollectionMetadata.collection(A, null, List.of(BsonDocument.parse("{key: {a: 1}}")), null));
        assertThrows(IllegalArgumentException.class, () -> CollectionMetadata.collection(A, null, List.of(), "ABC"));
        assertThrows(IllegalArgumentException.class, () -> CollectionMetadata.collection(Namespace.of("", "x"), null, List.of(), null));
        assertThrows(IllegalArgumentException.class, () -> Namespace.of("a.b", "c"));
        assertThrows(IllegalArgumentException.class, () -> new ArchiveHeader(1, "7.0", "t"));
        assertThrows(IllegalArgumentException.class, () -> new ArchiveHeader(0, "7.0.0", "t"));
        assertEquals("0123456789abcdef0123456789abcdef",
                CollectionMetadata.uuidHex(java.util.UUID.fromString("01234567-89ab-cdef-0123-456789abcdef")));
    }

    @Test
    void closingAnIncompleteWriterFailsButReleasesTheStream() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ArchiveWriter w = new ArchiveWriter(out, new ArchiveHeader(1, "7.0.0", "t"), List.of(plain(A)),
                ArchiveWriter.Compression.GZIP);
        w.write(A, DOC);
        assertThrows(IllegalStateException.class, w::close);
        w.close(); // idempotent
    }
}
