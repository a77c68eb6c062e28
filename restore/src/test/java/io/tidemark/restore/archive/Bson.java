package io.tidemark.restore.archive;

import java.nio.ByteBuffer;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

final class Bson {
    private Bson() {}

    static byte[] bytes(BsonDocument doc) {
        ByteBuffer buf = new RawBsonDocument(doc, new BsonDocumentCodec()).getByteBuffer().asNIO();
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }

    static byte[] bytes(String json) {
        return bytes(BsonDocument.parse(json));
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
