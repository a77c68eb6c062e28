package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.oplog.OpTime;
import java.nio.ByteBuffer;

import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * The keys of a head's {@code meta} and {@code catalog} column families and the encoding of the
 * applied position: shared by the head, its write batches and its views.
 */
final class MetaKeys {
    static final byte[] POSITION = Bson.utf8("position");
    static final byte[] NEXT_NS_ID = Bson.utf8("nextNsId");
    static final byte[] INCARNATION = Bson.utf8("incarnation");
    /**
     * The head's latest modification sequence number; per namespace, that of its last change (see
     * {@link #modified}): lets snapshots skip namespaces that did not change. A sequence, not an
     * oplog position, because bulk loads change namespaces without moving the position.
     */
    static final byte[] MOD_SEQ = Bson.utf8("modSeq");
    /** The modification sequence through which change tracking was cleared (see {@link DirtyKeys}). */
    static final byte[] DIRTY_CLEARED = Bson.utf8("dirtyClearedThrough");
    /**
     * The head's document key encoding ({@link DocumentKeys#ENCODING}); absent in heads written
     * before encodings were recorded, which are encoding 1 (see {@link KeyMigration}).
     */
    static final byte[] KEY_ENCODING = Bson.utf8("keyEncoding");
    static final byte[] COUNT_PREFIX = Bson.utf8("count/");
    private static final byte[] MODIFIED_PREFIX = Bson.utf8("modified/");

    private MetaKeys() {
    }

    static byte[] count(int nsId) {
        return ByteBuffer.allocate(COUNT_PREFIX.length + 4).put(COUNT_PREFIX).putInt(nsId).array();
    }

    static byte[] modified(int nsId) {
        return ByteBuffer.allocate(MODIFIED_PREFIX.length + 4).put(MODIFIED_PREFIX).putInt(nsId).array();
    }

    static byte[] catalog(int nsId) {
        return ByteBuffer.allocate(4).putInt(nsId).array();
    }

    static OpTime decodePosition(byte[] bytes) {
        return OpTime.of(new RawBsonDocument(bytes).getTimestamp("ts"));
    }

    /** The election term stored with the position ({@link OplogEntry#UNKNOWN_TERM} when its entry had none). */
    static long decodeTerm(byte[] bytes) {
        return new RawBsonDocument(bytes).getInt64("t").getValue();
    }

    static byte[] encodePosition(OpTime p, long term) {
        BsonDocument d = new BsonDocument("ts", p.toBson()).append("t", new BsonInt64(term));
        RawBsonDocument raw = new RawBsonDocument(d, new BsonDocumentCodec());
        var bb = raw.getByteBuffer();
        byte[] out = new byte[bb.limit() - bb.position()];
        System.arraycopy(bb.array(), bb.position(), out, 0, out.length);
        return out;
    }

    static long decodeLong(byte[] bytes) {
        return ByteBuffer.wrap(bytes).getLong();
    }

    static byte[] encodeLong(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }
}
