package io.tidemark.restore.archive;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.bson.BsonDocument;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The reader must refuse what mongorestore refuses, or it proves nothing about the encoder. */
class StrictArchiveReaderTest {

    static final Namespace A = Namespace.of("db", "a");
    static final Namespace B = Namespace.of("db", "b");
    static final Namespace V = Namespace.of("db", "v");
    static final ArchiveHeader HEADER = new ArchiveHeader(2, "7.0.0", "t");
    static final List<CollectionMetadata> COLLECTIONS = List.of(
            CollectionMetadata.collection(A, new BsonDocument(), List.of(ArchiveRoundTripTest.idIndex()), null),
            CollectionMetadata.collection(B, new BsonDocument(), List.of(ArchiveRoundTripTest.idIndex()), null),
            CollectionMetadata.view(V, BsonDocument.parse("{viewOn: 'a', pipeline: []}")));
    static final List<byte[]> DOCS = ArchiveRoundTripTest.numbered(3, "x");

    byte[] prelude;
    byte[] segmentA;   // header, 3 documents, terminator
    byte[] eofA;       // EOF header, terminator
    byte[] restBV;     // b and v: empty segment + EOF each
    byte[] archive;

    @BeforeEach
    void build() {
        ArchiveEncoder enc = new ArchiveEncoder(HEADER, COLLECTIONS);
        prelude = enc.prelude();
        byte[] begin = enc.beginBlock(A);
        for (byte[] d : DOCS) {
            enc.document(d);
        }
        byte[] end = enc.endBlock();
        segmentA = Bson.concat(begin, Bson.concat(DOCS.toArray(byte[][]::new)), end);
        eofA = enc.endNamespace(A);
        restBV = Bson.concat(enc.endNamespace(B), enc.endNamespace(V));
        enc.finish();
        archive = Bson.concat(prelude, segmentA, eofA, restBV);
        assertDoesNotThrow(() -> StrictArchiveReader.read(archive));
    }

    @Test
    void rejectsCorruptedMagic() {
        byte[] bad = archive.clone();
        bad[0] ^= 1;
        assertRejected(bad, "does not appear to be a mongodump archive");
    }

    @Test
    void rejectsWrongCrc() {
        byte[] badEof = eofA.clone();
        badEof[badEof.length - 4 - 1 - 8] ^= 0x10; // low byte of the CRC int64
        assertRejected(Bson.concat(prelude, segmentA, badEof, restBV), "CRC mismatch");
    }

    @Test
    void rejectsAlteredDocumentBytes() {
        byte[] bad = archive.clone();
        int at = prelude.length + segmentA.length - 4 - 10; // inside the last document's email string
        bad[at] = (byte) (bad[at] == 'a' ? 'b' : 'a');
        assertRejected(bad, "CRC mismatch");
    }

    @Test
    void rejectsEveryTruncation() {
        for (int len = 0; len < archive.length; len++) {
            byte[] cut = Arrays.copyOf(archive, len);
            assertThrows(StrictArchiveReader.ArchiveFormatException.class, () -> StrictArchiveReader.read(cut),
                    "prefix of " + len + " bytes");
        }
    }

    @Test
    void rejectsMissingEof() {
        assertRejected(Bson.concat(prelude, segmentA, restBV), "before all collections were seen");
    }

    @Test
    void rejectsStrayBytesAfterTheLastBlock() {
        assertRejected(Bson.concat(archive, new byte[] {0}), "stray bytes");
        assertRejected(Bson.concat(archive, new byte[] {0, 0, 0}), "stray bytes");
        assertRejected(Bson.concat(archive, new byte[] {-1, -1, -1, -1}), "consecutive terminators");
        assertRejected(Bson.concat(archive, new byte[] {3, 0, 0, 0}), "neither a valid bson length");
        assertRejected(Bson.concat(archive, new byte[] {9, 0, 0, 0, 1}), "truncated");
    }

    @Test
    void rejectsDocumentsAfterEof() {
        byte[] eofThenDoc = Bson.concat(Arrays.copyOf(eofA, eofA.length - 4), DOCS.get(0), new byte[] {-1, -1, -1, -1});
        assertRejected(Bson.concat(prelude, segmentA, eofThenDoc, restBV), "collection data without a collection header");
    }

    @Test
    void rejectsReopeningAnEndedNamespace() {
        assertRejected(Bson.concat(prelude, segmentA, eofA, segmentA, restBV), "already opened namespace");
    }

    @Test
    void rejectsNamespaceMissingFromPrelude() {
        ArchiveEncoder other = new ArchiveEncoder(HEADER, List.of(
                CollectionMetadata.collection(Namespace.of("db", "zz"), new BsonDocument(), List.of(), null)));
        other.prelude();
        byte[] stranger = other.endNamespace(Namespace.of("db", "zz"));
        assertRejected(Bson.concat(archive, stranger), "not in prelude");
    }

    @Test
    void rejectsInvalidBsonInsideASegment() {
        byte[] bad = archive.clone();
        int firstDoc = prelude.length + segmentA.length - 4 - DOCS.get(0).length * 3;
        bad[firstDoc + 4] = 0x7a; // element type that does not exist
        assertRejected(bad, "not valid BSON");
    }

    @Test
    void rejectsEofWithoutAnySegment() {
        assertRejected(Bson.concat(prelude, eofA, restBV), "without any data segment");
    }

    @Test
    void rejectsUnparseableMetadataAndServerVersion() {
        byte[] badVersion = new String(archive, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("7.0.0", "7.0.x").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertRejected(badVersion, "invalid version string");
        byte[] badJson = new String(archive, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("\"collectionName\":\"a\"", "\"collectionName\"=\"a\"").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertRejected(badJson, "not Extended JSON");
    }

    @Test
    void rejectsTruncatedGzip() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArchiveWriter w = new ArchiveWriter(out, HEADER, COLLECTIONS, ArchiveWriter.Compression.GZIP)) {
            w.writeNamespace(A, DOCS.iterator());
            w.endNamespace(B);
            w.endNamespace(V);
        }
        byte[] gz = out.toByteArray();
        assertDoesNotThrow(() -> StrictArchiveReader.readGzip(gz));
        assertThrows(RuntimeException.class, () -> StrictArchiveReader.readGzip(Arrays.copyOf(gz, gz.length - 9)));
    }

    static void assertRejected(byte[] archive, String reason) {
        StrictArchiveReader.ArchiveFormatException e = assertThrows(StrictArchiveReader.ArchiveFormatException.class,
                () -> StrictArchiveReader.read(archive));
        String message = e.getMessage() + (e.getCause() == null ? "" : " / " + e.getCause().getMessage());
        assertTrue(message.contains(reason), "expected '" + reason + "' in: " + message);
    }
}
