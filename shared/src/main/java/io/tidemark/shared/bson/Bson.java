package io.tidemark.shared.bson;

import java.nio.charset.StandardCharsets;

/**
 * Little-endian primitives and element sizing for BSON held in a byte array: with
 * {@link BsonCursor} (reading), {@link BsonOut} (writing), {@link BsonFrames} (validated framing
 * of untrusted bodies) and {@link Zstd}, the one BSON toolkit every module uses.
 *
 * <p>The applier works on raw bytes end to end: documents are stored exactly as MongoDB sent them,
 * and re-encoding through a tree would cost time and could change bytes (for example strings that
 * are not valid UTF-8), which would break byte-for-byte fidelity.
 */
public final class Bson {
    public static final byte DOUBLE = 0x01;
    public static final byte STRING = 0x02;
    public static final byte DOCUMENT = 0x03;
    public static final byte ARRAY = 0x04;
    public static final byte BINARY = 0x05;
    public static final byte UNDEFINED = 0x06;
    public static final byte OBJECT_ID = 0x07;
    public static final byte BOOLEAN = 0x08;
    public static final byte DATE = 0x09;
    public static final byte NULL = 0x0A;
    public static final byte REGEX = 0x0B;
    public static final byte DB_POINTER = 0x0C;
    public static final byte JAVASCRIPT = 0x0D;
    public static final byte SYMBOL = 0x0E;
    public static final byte JAVASCRIPT_WITH_SCOPE = 0x0F;
    public static final byte INT32 = 0x10;
    public static final byte TIMESTAMP = 0x11;
    public static final byte INT64 = 0x12;
    public static final byte DECIMAL128 = 0x13;
    public static final byte MIN_KEY = (byte) 0xFF;
    public static final byte MAX_KEY = 0x7F;

    private Bson() {
    }

    public static int readInt(byte[] b, int p) {
        return (b[p] & 0xFF) | (b[p + 1] & 0xFF) << 8 | (b[p + 2] & 0xFF) << 16 | (b[p + 3] & 0xFF) << 24;
    }

    public static long readLong(byte[] b, int p) {
        return (readInt(b, p) & 0xFFFFFFFFL) | ((long) readInt(b, p + 4)) << 32;
    }

    public static void writeInt(byte[] b, int p, int v) {
        b[p] = (byte) v;
        b[p + 1] = (byte) (v >>> 8);
        b[p + 2] = (byte) (v >>> 16);
        b[p + 3] = (byte) (v >>> 24);
    }

    /** Index of the NUL that ends the cstring starting at {@code p}, bounded by {@code limit}. */
    public static int cstringEnd(byte[] b, int p, int limit) {
        for (int i = p; i < limit; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        throw new MalformedBsonException("unterminated cstring at " + p);
    }

    /** Size of the value of an element of type {@code type} whose value starts at {@code v}. */
    public static int valueSize(byte type, byte[] b, int v, int limit) {
        int size;
        switch (type) {
            case DOUBLE, DATE, INT64, TIMESTAMP -> size = 8;
            case STRING, JAVASCRIPT, SYMBOL -> size = 4 + checkedLength(b, v, limit, 1);
            case DOCUMENT, ARRAY, JAVASCRIPT_WITH_SCOPE -> size = checkedLength(b, v, limit, 5);
            case BINARY -> size = 5 + checkedLength(b, v, limit, 0);
            case UNDEFINED, NULL, MIN_KEY, MAX_KEY -> size = 0;
            case OBJECT_ID -> size = 12;
            case BOOLEAN -> size = 1;
            case INT32 -> size = 4;
            case DECIMAL128 -> size = 16;
            case REGEX -> {
                int e1 = cstringEnd(b, v, limit);
                int e2 = cstringEnd(b, e1 + 1, limit);
                size = e2 + 1 - v;
            }
            case DB_POINTER -> size = 4 + checkedLength(b, v, limit, 1) + 12;
            default -> throw new MalformedBsonException("unknown BSON type 0x" + Integer.toHexString(type & 0xFF));
        }
        if (v + size > limit) {
            throw new MalformedBsonException("value overruns its document");
        }
        return size;
    }

    private static int checkedLength(byte[] b, int v, int limit, int min) {
        if (v + 4 > limit) {
            throw new MalformedBsonException("length overruns its document");
        }
        int len = readInt(b, v);
        if (len < min || v + len > limit) {
            throw new MalformedBsonException("bad length " + len);
        }
        return len;
    }

    /** Total length of the document starting at {@code p}, validated against the array. */
    public static int docLength(byte[] b, int p) {
        if (p + 5 > b.length) {
            throw new MalformedBsonException("document truncated");
        }
        int len = readInt(b, p);
        if (len < 5 || p + len > b.length || b[p + len - 1] != 0) {
            throw new MalformedBsonException("bad document length " + len);
        }
        return len;
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    public static String string(byte[] b, int p, int len) {
        return new String(b, p, len, StandardCharsets.UTF_8);
    }

    /** Reads a BSON string value (int32 length including NUL, bytes, NUL). */
    public static String stringValue(byte[] b, int v) {
        int len = readInt(b, v);
        return new String(b, v + 4, len - 1, StandardCharsets.UTF_8);
    }

    private static final byte[][] INDEX_NAMES = new byte[1024][];

    static {
        for (int i = 0; i < INDEX_NAMES.length; i++) {
            INDEX_NAMES[i] = utf8(Integer.toString(i));
        }
    }

    /** Array element names are decimal indexes; the common ones are precomputed. */
    public static byte[] indexName(int i) {
        return i < INDEX_NAMES.length ? INDEX_NAMES[i] : utf8(Integer.toString(i));
    }

    public static boolean isNumeric(byte type) {
        return type == DOUBLE || type == INT32 || type == INT64 || type == DECIMAL128;
    }
}
