package io.tidemark.deploy.bench;

import io.tidemark.shared.oplog.OpTime;
import org.bson.BsonBinary;
import org.bson.BsonBinaryWriter;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Insert oplog entries as MongoDB 6–8 writes them ({@code op, ns, ui, o, o2, ts, t, v, wall}),
 * pre-encoded once; each emitted entry is a copy with its own timestamp written into place.
 */
final class EntryTemplates {

    private static final int TEMPLATES = 1024;
    private static final int PER_SECOND = 10_000;

    private final byte[][] templates;
    private final int tsOffset;

    private EntryTemplates(byte[][] templates, int tsOffset) {
        this.templates = templates;
        this.tsOffset = tsOffset;
    }

    static EntryTemplates build(int entryBytes) {
        BsonBinary ui = new BsonBinary(UUID.randomUUID());
        int padding = 0;
        byte[][] out = new byte[TEMPLATES][];
        for (int i = 0; i < TEMPLATES; i++) {
            byte[] encoded = encode(i, ui, padding);
            if (i == 0 && encoded.length < entryBytes) {
                padding = entryBytes - encoded.length;
                encoded = encode(i, ui, padding);
            }
            out[i] = encoded;
        }
        return new EntryTemplates(out, tsValueOffset(out[0]));
    }

    private static byte[] encode(int i, BsonBinary ui, int padding) {
        BsonObjectId id = new BsonObjectId();
        BsonDocument o = new BsonDocument("_id", id)
                .append("customerId", new BsonInt32(i % 5000))
                .append("status", new BsonString("new"))
                .append("total", new BsonDouble(i % 997 / 7.0))
                .append("note", new BsonString("x".repeat(padding)));
        BsonDocument entry = new BsonDocument("op", new BsonString("i"))
                .append("ns", new BsonString("bench.orders"))
                .append("ui", ui)
                .append("o", o)
                .append("o2", new BsonDocument("_id", id))
                .append("ts", new OpTime(1, 1).toBson())
                .append("t", new BsonInt64(1))
                .append("v", new BsonInt64(2))
                .append("wall", new BsonDateTime(1_700_000_000_000L + i));
        BasicOutputBuffer buf = new BasicOutputBuffer(512);
        new BsonDocumentCodec().encode(new BsonBinaryWriter(buf), entry, EncoderContext.builder().build());
        return buf.toByteArray();
    }

    /** Where the timestamp's 8 bytes sit: after the type byte 0x11 and the name "ts\0". */
    private static int tsValueOffset(byte[] doc) {
        byte[] marker = {0x11, 't', 's', 0};
        outer:
        for (int p = 4; p + marker.length + 8 <= doc.length; p++) {
            for (int k = 0; k < marker.length; k++) {
                if (doc[p + k] != marker[k]) {
                    continue outer;
                }
            }
            return p + marker.length;
        }
        throw new IllegalStateException("template has no ts field: " + new String(doc, StandardCharsets.ISO_8859_1));
    }

    int entryBytes() {
        return templates[0].length;
    }

    static OpTime position(OpTime start, int i) {
        return new OpTime(start.seconds() + 1 + i / PER_SECOND, i % PER_SECOND + 1);
    }

    RawBsonDocument entry(OpTime start, int i) {
        byte[] doc = templates[i % TEMPLATES].clone();
        OpTime ts = position(start, i);
        // A BSON timestamp is little-endian: increment in the low four bytes, seconds in the high four.
        ByteBuffer.wrap(doc, tsOffset, 8).order(ByteOrder.LITTLE_ENDIAN)
                .putInt((int) ts.increment()).putInt((int) ts.seconds());
        return new RawBsonDocument(doc);
    }
}
