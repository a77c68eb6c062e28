package io.tidemark.shared.bson;

import java.nio.charset.StandardCharsets;

/** Walks the elements of one BSON document or array in place, without allocating per element. */
public final class BsonCursor {
    public byte[] buf;
    private int pos;
    private int end;

    public byte type;
    public int elementStart;
    public int nameStart;
    public int nameLength;
    public int valueStart;
    public int valueLength;

    public BsonCursor() {
    }

    public BsonCursor(byte[] buf, int docStart) {
        reset(buf, docStart);
    }

    public BsonCursor reset(byte[] buf, int docStart) {
        this.buf = buf;
        int len = Bson.docLength(buf, docStart);
        this.pos = docStart + 4;
        this.end = docStart + len - 1;
        return this;
    }

    public boolean next() {
        if (pos >= end) {
            return false;
        }
        elementStart = pos;
        type = buf[pos];
        nameStart = pos + 1;
        int nameEnd = Bson.cstringEnd(buf, nameStart, end);
        nameLength = nameEnd - nameStart;
        valueStart = nameEnd + 1;
        valueLength = Bson.valueSize(type, buf, valueStart, end);
        pos = valueStart + valueLength;
        return true;
    }

    public int elementEnd() {
        return valueStart + valueLength;
    }

    public int elementLength() {
        return valueStart + valueLength - elementStart;
    }

    public String name() {
        return new String(buf, nameStart, nameLength, StandardCharsets.UTF_8);
    }

    public boolean nameIs(byte[] name) {
        if (name.length != nameLength) {
            return false;
        }
        for (int i = 0; i < nameLength; i++) {
            if (buf[nameStart + i] != name[i]) {
                return false;
            }
        }
        return true;
    }

    public boolean nameIs(String ascii) {
        if (ascii.length() != nameLength) {
            return false;
        }
        for (int i = 0; i < nameLength; i++) {
            if (buf[nameStart + i] != (byte) ascii.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    public boolean nameStartsWith(char c) {
        return nameLength > 0 && buf[nameStart] == (byte) c;
    }

    public String stringValue() {
        return Bson.stringValue(buf, valueStart);
    }

    public int intValue() {
        return Bson.readInt(buf, valueStart);
    }

    public long longValue() {
        return Bson.readLong(buf, valueStart);
    }

    public boolean booleanValue() {
        return buf[valueStart] != 0;
    }

    /** True for bool true or any non-zero number, as MongoDB's trueValue() reads command flags. */
    public boolean truthy() {
        return switch (type) {
            case Bson.BOOLEAN -> buf[valueStart] != 0;
            case Bson.INT32 -> intValue() != 0;
            case Bson.INT64 -> longValue() != 0;
            case Bson.DOUBLE -> Double.longBitsToDouble(longValue()) != 0.0;
            case Bson.NULL, Bson.UNDEFINED -> false;
            default -> true;
        };
    }

    /** Numeric value as a long when the element is int32/int64/double with an integral value. */
    public long integralValue() {
        return switch (type) {
            case Bson.INT32 -> intValue();
            case Bson.INT64 -> longValue();
            case Bson.DOUBLE -> {
                double d = Double.longBitsToDouble(longValue());
                if (d != Math.rint(d)) {
                    throw new MalformedBsonException("expected an integral number, got " + d);
                }
                yield (long) d;
            }
            default -> throw new MalformedBsonException("expected a number for field " + name());
        };
    }

    /** Finds a top-level field of the document at {@code docStart}; returns false when absent. */
    public boolean find(byte[] buf, int docStart, String ascii) {
        reset(buf, docStart);
        while (next()) {
            if (nameIs(ascii)) {
                return true;
            }
        }
        return false;
    }
}
