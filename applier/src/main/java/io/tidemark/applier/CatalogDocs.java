package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/** Small conversions for catalog documents (options, index specs), which are edited as trees. */
final class CatalogDocs {
    private CatalogDocs() {
    }

    static BsonDocument mutable(RawBsonDocument raw) {
        return raw.decode(new BsonDocumentCodec());
    }

    static RawBsonDocument raw(BsonDocument d) {
        return new RawBsonDocument(d, new BsonDocumentCodec());
    }

    static RawBsonDocument sub(byte[] buf, int start) {
        int len = Bson.readInt(buf, start);
        byte[] b = new byte[len];
        System.arraycopy(buf, start, b, 0, len);
        return new RawBsonDocument(b);
    }

    static boolean sameBytes(RawBsonDocument a, RawBsonDocument b) {
        var x = a.getByteBuffer();
        var y = b.getByteBuffer();
        return java.util.Arrays.equals(x.array(), x.position(), x.limit(), y.array(), y.position(), y.limit());
    }
}
