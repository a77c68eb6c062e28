package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.math.BigInteger;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyHashTest {
    @TempDir
    Path dir;

    private static RawBsonDocument doc(int id, int a) {
        return new RawBsonDocument(new BsonDocument("_id", new BsonInt32(id)).append("a", new BsonInt32(a)), new BsonDocumentCodec());
    }

    @Test
    void headNamespaceAndLiveStreamAgreeWhateverTheOrder() {
        List<RawBsonDocument> docs = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            docs.add(doc(i, i * 7));
        }
        try (Head head = Head.open(dir)) {
            NamespaceEntry ns = head.createNamespace("db", "c", UUID.randomUUID(), NamespaceType.COLLECTION, null, List.of());
            head.bulkLoad(ns.id(), docs.iterator());
            List<RawBsonDocument> shuffled = new ArrayList<>(docs);
            Collections.shuffle(shuffled, new Random(7));
            try (HeadView view = head.openView()) {
                VerifyHash.Result fromHead = VerifyHash.of(view, ns.id());
                assertEquals(VerifyHash.of(shuffled.iterator()), fromHead);
                assertEquals(2_000, fromHead.count());
            }
        }
    }

    @Test
    void sumIsTheSha256SumModulo2To256AndSeesTypesAndFieldOrder() throws Exception {
        List<RawBsonDocument> docs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            docs.add(doc(i, i));
        }
        BigInteger expected = BigInteger.ZERO;
        for (RawBsonDocument d : docs) {
            var bb = d.getByteBuffer();
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(bb.array(), bb.position(), bb.limit() - bb.position());
            expected = expected.add(new BigInteger(1, md.digest()));
        }
        expected = expected.mod(BigInteger.ONE.shiftLeft(256));
        assertEquals(expected, VerifyHash.toBigInteger(VerifyHash.of(docs.iterator())));

        RawBsonDocument asDouble = new RawBsonDocument(new BsonDocument("_id", new BsonInt32(1)).append("a", new BsonDouble(1)),
                new BsonDocumentCodec());
        RawBsonDocument reordered = new RawBsonDocument(new BsonDocument("a", new BsonInt32(1)).append("_id", new BsonInt32(1)),
                new BsonDocumentCodec());
        VerifyHash.Result base = VerifyHash.of(List.of(doc(1, 1)).iterator());
        assertNotEquals(base, VerifyHash.of(List.of(asDouble).iterator()));
        assertNotEquals(base, VerifyHash.of(List.of(reordered).iterator()));
    }
}
