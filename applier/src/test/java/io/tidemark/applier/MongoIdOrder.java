package io.tidemark.applier;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;

import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonType;
import org.bson.BsonValue;
import org.bson.types.Decimal128;

/**
 * A reference comparator of {@code _id} values written from MongoDB's documented comparison/sort
 * order (BSON types: MinKey, Undefined, Null, numbers, Symbol/String, Object, Array, BinData,
 * ObjectId, Boolean, Date, Timestamp, RegEx, DBPointer, Code, CodeWScope, MaxKey; numbers by value
 * with NaN first; strings by simple binary collation; objects field by field: type, name, value;
 * BinData by length, subtype, bytes). Independent of {@link DocumentKeys}: tests check key order
 * against it.
 */
final class MongoIdOrder implements Comparator<BsonValue> {
    static final MongoIdOrder INSTANCE = new MongoIdOrder();

    static int rank(BsonType t) {
        return switch (t) {
            case MIN_KEY -> 0;
            case UNDEFINED -> 1;
            case NULL -> 2;
            case INT32, INT64, DOUBLE, DECIMAL128 -> 3;
            case STRING, SYMBOL -> 4;
            case DOCUMENT -> 5;
            case ARRAY -> 6;
            case BINARY -> 7;
            case OBJECT_ID -> 8;
            case BOOLEAN -> 9;
            case DATE_TIME -> 10;
            case TIMESTAMP -> 11;
            case REGULAR_EXPRESSION -> 12;
            case DB_POINTER -> 13;
            case JAVASCRIPT -> 14;
            case JAVASCRIPT_WITH_SCOPE -> 15;
            case MAX_KEY -> 16;
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    @Override
    public int compare(BsonValue a, BsonValue b) {
        int r = Integer.compare(rank(a.getBsonType()), rank(b.getBsonType()));
        if (r != 0) {
            return r;
        }
        switch (a.getBsonType()) {
            case MIN_KEY, MAX_KEY, UNDEFINED, NULL:
                return 0;
            case INT32, INT64, DOUBLE, DECIMAL128:
                return compareNumbers(a, b);
            case STRING, SYMBOL:
                return bytes(stringOf(a), stringOf(b));
            case DOCUMENT:
                return documents(a.asDocument(), b.asDocument());
            case ARRAY:
                return arrays(a.asArray(), b.asArray());
            case BINARY: {
                // MongoDB: by the stored length, then subtype, then the stored bytes (subtype 2,
                // the old binary, stores its own length before the data).
                byte[] x = storedBinary(a.asBinary());
                byte[] y = storedBinary(b.asBinary());
                r = Integer.compare(x.length, y.length);
                if (r == 0) {
                    r = Integer.compare(a.asBinary().getType() & 0xFF, b.asBinary().getType() & 0xFF);
                }
                return r != 0 ? r : Arrays.compareUnsigned(x, y);
            }
            case OBJECT_ID:
                return Arrays.compareUnsigned(a.asObjectId().getValue().toByteArray(), b.asObjectId().getValue().toByteArray());
            case BOOLEAN:
                return Boolean.compare(a.asBoolean().getValue(), b.asBoolean().getValue());
            case DATE_TIME:
                return Long.compare(a.asDateTime().getValue(), b.asDateTime().getValue());
            case TIMESTAMP:
                return Long.compareUnsigned(a.asTimestamp().getValue(), b.asTimestamp().getValue());
            case REGULAR_EXPRESSION:
                r = bytes(a.asRegularExpression().getPattern(), b.asRegularExpression().getPattern());
                return r != 0 ? r : bytes(a.asRegularExpression().getOptions(), b.asRegularExpression().getOptions());
            case DB_POINTER: {
                // MongoDB: by value size, then the value's bytes (namespace string, then ObjectId).
                byte[] x = a.asDBPointer().getNamespace().getBytes(StandardCharsets.UTF_8);
                byte[] y = b.asDBPointer().getNamespace().getBytes(StandardCharsets.UTF_8);
                r = Integer.compare(x.length, y.length);
                if (r == 0) {
                    r = Arrays.compareUnsigned(x, y);
                }
                return r != 0 ? r : Arrays.compareUnsigned(a.asDBPointer().getId().toByteArray(), b.asDBPointer().getId().toByteArray());
            }
            case JAVASCRIPT:
                return bytes(a.asJavaScript().getCode(), b.asJavaScript().getCode());
            case JAVASCRIPT_WITH_SCOPE:
                r = bytes(a.asJavaScriptWithScope().getCode(), b.asJavaScriptWithScope().getCode());
                return r != 0 ? r : documents(a.asJavaScriptWithScope().getScope(), b.asJavaScriptWithScope().getScope());
            default:
                throw new IllegalArgumentException(a.getBsonType().toString());
        }
    }

    private static byte[] storedBinary(BsonBinary b) {
        byte[] data = b.getData();
        if (b.getType() != 2) {
            return data;
        }
        return java.nio.ByteBuffer.allocate(4 + data.length).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(data.length).put(data).array();
    }

    private static String stringOf(BsonValue v) {
        return v.isString() ? v.asString().getValue() : v.asSymbol().getSymbol();
    }

    private static int bytes(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private int documents(BsonDocument a, BsonDocument b) {
        Iterator<Map.Entry<String, BsonValue>> x = a.entrySet().iterator();
        Iterator<Map.Entry<String, BsonValue>> y = b.entrySet().iterator();
        while (x.hasNext() && y.hasNext()) {
            Map.Entry<String, BsonValue> l = x.next();
            Map.Entry<String, BsonValue> r = y.next();
            int c = Integer.compare(rank(l.getValue().getBsonType()), rank(r.getValue().getBsonType()));
            if (c == 0) {
                c = bytes(l.getKey(), r.getKey());
            }
            if (c == 0) {
                c = compare(l.getValue(), r.getValue());
            }
            if (c != 0) {
                return c;
            }
        }
        return Boolean.compare(x.hasNext(), y.hasNext());
    }

    private int arrays(BsonArray a, BsonArray b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = compare(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    /** By exact value; NaN below every number, -0 = 0. */
    private static int compareNumbers(BsonValue a, BsonValue b) {
        BigDecimal x = value(a);
        BigDecimal y = value(b);
        boolean xNaN = x == null && isNaN(a);
        boolean yNaN = y == null && isNaN(b);
        if (xNaN || yNaN) {
            return Boolean.compare(!xNaN, !yNaN);
        }
        int xi = infinity(a);
        int yi = infinity(b);
        if (xi != 0 || yi != 0) {
            // A finite number counts as 0 here: -inf < finite < +inf.
            return Integer.compare(xi, yi);
        }
        return x.compareTo(y);
    }

    private static boolean isNaN(BsonValue v) {
        return v.isDouble() ? Double.isNaN(v.asDouble().getValue()) : v.isDecimal128() && v.asDecimal128().getValue().isNaN();
    }

    /** -1 for -inf, 1 for +inf, else 0. */
    private static int infinity(BsonValue v) {
        if (v.isDouble() && Double.isInfinite(v.asDouble().getValue())) {
            return v.asDouble().getValue() < 0 ? -1 : 1;
        }
        if (v.isDecimal128() && v.asDecimal128().getValue().isInfinite()) {
            return v.asDecimal128().getValue().isNegative() ? -1 : 1;
        }
        return 0;
    }

    /** The exact value of a finite number, else null. */
    private static BigDecimal value(BsonValue v) {
        switch (v.getBsonType()) {
            case INT32: return BigDecimal.valueOf(v.asInt32().getValue());
            case INT64: return BigDecimal.valueOf(v.asInt64().getValue());
            case DOUBLE: {
                double d = v.asDouble().getValue();
                return Double.isNaN(d) || Double.isInfinite(d) ? null : new BigDecimal(d);
            }
            default: {
                Decimal128 d = v.asDecimal128().getValue();
                if (d.isNaN() || d.isInfinite()) {
                    return null;
                }
                try {
                    return d.bigDecimalValue();
                } catch (ArithmeticException negativeZero) {
                    return BigDecimal.ZERO;
                }
            }
        }
    }
}
