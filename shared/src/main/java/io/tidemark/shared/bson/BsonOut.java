package io.tidemark.shared.bson;

import java.util.Arrays;

/** A growable buffer that builds BSON by copying raw element bytes; reused across documents. */
public final class BsonOut {
    private byte[] buf;
    private int size;

    public BsonOut(int initialCapacity) {
        buf = new byte[initialCapacity];
    }

    public void reset() {
        size = 0;
    }

    public int size() {
        return size;
    }

    public byte[] buffer() {
        return buf;
    }

    private void ensure(int extra) {
        if (size + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + extra));
        }
    }

    /** Starts a document; returns the position to hand to {@link #endDocument(int)}. */
    public int startDocument() {
        ensure(4);
        int at = size;
        size += 4;
        return at;
    }

    public void endDocument(int at) {
        ensure(1);
        buf[size++] = 0;
        int len = size - at;
        if (len > BsonFrames.MAX_DOCUMENT_BYTES) {
            // MongoDB never stores a document over 16MB; producing one means the input was wrong.
            throw new MalformedBsonException("document grew to " + len + " bytes");
        }
        Bson.writeInt(buf, at, len);
    }

    public void copy(byte[] src, int off, int len) {
        ensure(len);
        System.arraycopy(src, off, buf, size, len);
        size += len;
    }

    public void writeByte(byte b) {
        ensure(1);
        buf[size++] = b;
    }

    public void writeInt(int v) {
        ensure(4);
        Bson.writeInt(buf, size, v);
        size += 4;
    }

    public void header(byte type, byte[] name) {
        ensure(name.length + 2);
        buf[size++] = type;
        System.arraycopy(name, 0, buf, size, name.length);
        size += name.length;
        buf[size++] = 0;
    }

    public void header(byte type, byte[] nameSrc, int nameOff, int nameLen) {
        ensure(nameLen + 2);
        buf[size++] = type;
        System.arraycopy(nameSrc, nameOff, buf, size, nameLen);
        size += nameLen;
        buf[size++] = 0;
    }

    public byte[] toByteArray(int from) {
        return Arrays.copyOfRange(buf, from, size);
    }
}
