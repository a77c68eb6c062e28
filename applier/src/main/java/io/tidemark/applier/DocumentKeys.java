package io.tidemark.applier;

import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * Document keys: 4-byte big-endian namespace id, then the _id's BSON type byte and its exact value
 * bytes. Keeping the type byte and the raw bytes means two _ids MongoDB stores differently never
 * share a key, and all keys of a namespace are contiguous, so a namespace scans (and drops) as one
 * range.
 */
final class DocumentKeys {
    /** The encoding of these keys, recorded in snapshot manifests: a delta chain never spans two. */
    static final int ENCODING = 1;

    private DocumentKeys() {
    }

    static byte[] key(int nsId, byte idType, byte[] buf, int valueStart, int valueLength) {
        byte[] k = new byte[5 + valueLength];
        writeNsId(k, nsId);
        k[4] = idType;
        System.arraycopy(buf, valueStart, k, 5, valueLength);
        return k;
    }

    static byte[] key(int nsId, BsonValue id) {
        RawBsonDocument d = new RawBsonDocument(new BsonDocument("_id", id), new BsonDocumentCodec());
        var bb = d.getByteBuffer();
        BsonCursor c = new BsonCursor(bb.array(), bb.position());
        c.next();
        return key(nsId, c.type, c.buf, c.valueStart, c.valueLength);
    }

    static byte[] prefix(int nsId) {
        byte[] k = new byte[4];
        writeNsId(k, nsId);
        return k;
    }

    /** First key after every key of {@code nsId}; ids are positive ints, so this never wraps. */
    static byte[] upperBound(int nsId) {
        return prefix(nsId + 1);
    }

    static int nsId(byte[] key) {
        return (key[0] & 0xFF) << 24 | (key[1] & 0xFF) << 16 | (key[2] & 0xFF) << 8 | (key[3] & 0xFF);
    }

    private static void writeNsId(byte[] k, int nsId) {
        k[0] = (byte) (nsId >>> 24);
        k[1] = (byte) (nsId >>> 16);
        k[2] = (byte) (nsId >>> 8);
        k[3] = (byte) nsId;
    }
}
