package io.tidemark.snapshotter.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Just enough of a BSON encoder to build synthetic documents quickly: little-endian
 * writes into a growable array with back-patched document lengths.
 */
final class BsonBuffer {

    private byte[] buf = new byte[4096];
    private int pos;
    private final int[] openDocs = new int[16];
    private int depth;

    void reset() {
        pos = 0;
        depth = 0;
    }

    byte[] toArray() {
        return Arrays.copyOf(buf, pos);
    }

    BsonBuffer startDocument() {
        openDocs[depth++] = pos;
        int32(0);
        return this;
    }

    BsonBuffer endDocument() {
        ensure(1);
        buf[pos++] = 0;
        int start = openDocs[--depth];
        putInt(start, pos - start);
        return this;
    }

    BsonBuffer document(String name) {
        header(0x03, name);
        return startDocument();
    }

    BsonBuffer array(String name) {
        header(0x04, name);
        return startDocument();
    }

    BsonBuffer string(String name, String value) {
        header(0x02, name);
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        int32(b.length + 1);
        bytes(b);
        ensure(1);
        buf[pos++] = 0;
        return this;
    }

    BsonBuffer int32(String name, int value) {
        header(0x10, name);
        return int32(value);
    }

    BsonBuffer int64(String name, long value) {
        header(0x12, name);
        return int64(value);
    }

    BsonBuffer dbl(String name, double value) {
        header(0x01, name);
        return int64(Double.doubleToRawLongBits(value));
    }

    BsonBuffer bool(String name, boolean value) {
        header(0x08, name);
        ensure(1);
        buf[pos++] = (byte) (value ? 1 : 0);
        return this;
    }

    BsonBuffer dateTime(String name, long millis) {
        header(0x09, name);
        return int64(millis);
    }

    BsonBuffer objectId(String name, long high, int low) {
        header(0x07, name);
        ensure(12);
        // ObjectId is big-endian on the wire, unlike every other BSON number.
        for (int i = 7; i >= 0; i--) {
            buf[pos++] = (byte) (high >>> (8 * i));
        }
        for (int i = 3; i >= 0; i--) {
            buf[pos++] = (byte) (low >>> (8 * i));
        }
        return this;
    }

    private void header(int type, String name) {
        ensure(1);
        buf[pos++] = (byte) type;
        bytes(name.getBytes(StandardCharsets.UTF_8));
        ensure(1);
        buf[pos++] = 0;
    }

    private BsonBuffer int32(int v) {
        ensure(4);
        putInt(pos, v);
        pos += 4;
        return this;
    }

    private BsonBuffer int64(long v) {
        ensure(8);
        for (int i = 0; i < 8; i++) {
            buf[pos++] = (byte) (v >>> (8 * i));
        }
        return this;
    }

    private void bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    private void putInt(int at, int v) {
        buf[at] = (byte) v;
        buf[at + 1] = (byte) (v >>> 8);
        buf[at + 2] = (byte) (v >>> 16);
        buf[at + 3] = (byte) (v >>> 24);
    }

    private void ensure(int n) {
        if (pos + n > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
        }
    }
}
