package io.tidemark.agent;

import io.vertx.core.buffer.Buffer;
import org.bson.ByteBuf;
import org.bson.RawBsonDocument;

/** Moves raw BSON documents into request bodies without decoding them. */
final class RawBson {

    private RawBson() {
    }

    static int size(RawBsonDocument doc) {
        return doc.getByteBuffer().remaining();
    }

    static String digest(RawBsonDocument doc) {
        ByteBuf bytes = doc.getByteBuffer();
        return io.tidemark.shared.oplog.EntryDigest.of(bytes.array(), bytes.position(), bytes.remaining());
    }

    static void appendTo(Buffer body, RawBsonDocument doc) {
        ByteBuf bytes = doc.getByteBuffer();
        body.appendBytes(bytes.array(), bytes.position(), bytes.remaining());
    }
}
