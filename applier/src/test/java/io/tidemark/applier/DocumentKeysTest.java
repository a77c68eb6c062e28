package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.bson.BsonCursor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDbPointer;
import org.bson.BsonDecimal128;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonJavaScript;
import org.bson.BsonJavaScriptWithScope;
import org.bson.BsonMaxKey;
import org.bson.BsonMinKey;
import org.bson.BsonNull;
import org.bson.BsonObjectId;
import org.bson.BsonRegularExpression;
import org.bson.BsonString;
import org.bson.BsonSymbol;
import org.bson.BsonTimestamp;
import org.bson.BsonUndefined;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

/** Key order = MongoDB's _id order, and keys give back the exact stored _id. */
class DocumentKeysTest {

    /** Numbers where precision and representation matter. */
    static final List<BsonValue> EDGE_NUMBERS = List.of(
            new BsonDouble(Double.NaN), new BsonDecimal128(Decimal128.NaN), new BsonDecimal128(Decimal128.NEGATIVE_NaN),
            new BsonDouble(Double.NEGATIVE_INFINITY), new BsonDecimal128(Decimal128.NEGATIVE_INFINITY),
            new BsonDouble(Double.POSITIVE_INFINITY), new BsonDecimal128(Decimal128.POSITIVE_INFINITY),
            new BsonDouble(0.0), new BsonDouble(-0.0), new BsonInt32(0), new BsonInt64(0),
            new BsonDecimal128(Decimal128.NEGATIVE_ZERO), new BsonDecimal128(Decimal128.parse("0E+10")),
            new BsonInt32(1), new BsonInt64(1), new BsonDouble(1.0), new BsonDecimal128(Decimal128.parse("1.0")),
            new BsonDecimal128(Decimal128.parse("1.00")), new BsonDecimal128(Decimal128.parse("1")),
            new BsonInt32(-1), new BsonInt32(10), new BsonInt32(9), new BsonInt32(100), new BsonInt32(99), new BsonInt32(101),
            new BsonInt32(Integer.MIN_VALUE), new BsonInt32(Integer.MAX_VALUE),
            new BsonInt64(Long.MIN_VALUE), new BsonInt64(Long.MAX_VALUE), new BsonInt64(Long.MIN_VALUE + 1),
            new BsonDouble(0x1p63), new BsonDouble(-0x1p63), new BsonDouble(0x1p64),
            new BsonDouble(0x1p53), new BsonInt64((1L << 53) + 1), new BsonInt64(1L << 53), new BsonDouble(0x1p53 + 2),
            new BsonDouble(0.1), new BsonDecimal128(Decimal128.parse("0.1")), new BsonDouble(-0.1),
            new BsonDecimal128(Decimal128.parse("-0.1")), new BsonDouble(1e-300), new BsonDouble(Double.MIN_VALUE),
            new BsonDouble(-Double.MIN_VALUE), new BsonDouble(Double.MAX_VALUE), new BsonDouble(-Double.MAX_VALUE),
            new BsonDouble(1.5), new BsonDouble(-1.5), new BsonDouble(123.456),
            new BsonDecimal128(Decimal128.parse("9007199254740993")),
            new BsonDecimal128(Decimal128.parse("9.999999999999999999999999999999999E+6144")),
            new BsonDecimal128(Decimal128.parse("-9.999999999999999999999999999999999E+6144")),
            new BsonDecimal128(Decimal128.parse("1E-6176")), new BsonDecimal128(Decimal128.parse("-1E-6176")),
            new BsonDecimal128(Decimal128.parse("0.1000000000000000055511151231257827")),
            new BsonDecimal128(Decimal128.parse("0.1000000000000000055511151231257828")));

    @Test
    void keyOrderIsMongoOrderAndKeysRoundTrip() {
        Random random = new Random(13);
        List<BsonValue> ids = new ArrayList<>(EDGE_NUMBERS);
        ids.addAll(fixedValues());
        for (int i = 0; i < 1500; i++) {
            ids.add(randomValue(random, 0));
        }
        List<byte[]> keys = new ArrayList<>();
        for (BsonValue id : ids) {
            byte[] key = DocumentKeys.key(7, id);
            keys.add(key);
            assertEquals(7, DocumentKeys.nsId(key));
            assertArrayEquals(raw(id), raw(DocumentKeys.id(key)), () -> "round trip of " + id);
        }
        int compared = 0;
        for (int i = 0; i < ids.size(); i++) {
            for (int j = i + 1; j < ids.size(); j += (j < EDGE_NUMBERS.size() + 60 ? 1 : 7)) {
                BsonValue a = ids.get(i);
                BsonValue b = ids.get(j);
                int expected = Integer.signum(MongoIdOrder.INSTANCE.compare(a, b));
                int actual = Integer.signum(Arrays.compareUnsigned(keys.get(i), keys.get(j)));
                boolean sameStored = Arrays.equals(raw(a), raw(b));
                assertEquals(sameStored, actual == 0, () -> "keys equal iff stored equal: " + a + " vs " + b);
                if (expected != 0) {
                    assertEquals(expected, actual, () -> "order of " + a + " vs " + b);
                }
                compared++;
            }
        }
        assertTrue(compared > 100_000, "compared " + compared);
    }

    @Test
    void increasingIntegersAreAdjacentAndNamespacesContiguous() {
        byte[] previous = null;
        for (long i = -2000; i < 70_000; i += 3) {
            byte[] key = DocumentKeys.key(3, i % 2 == 0 ? new BsonInt64(i) : new BsonInt32((int) i));
            if (previous != null) {
                assertTrue(Arrays.compareUnsigned(previous, key) < 0, "order at " + i);
            }
            assertTrue(Arrays.compareUnsigned(DocumentKeys.prefix(3), key) <= 0);
            assertTrue(Arrays.compareUnsigned(key, DocumentKeys.upperBound(3)) < 0);
            previous = key;
        }
        assertTrue(Arrays.compareUnsigned(DocumentKeys.key(3, new BsonMaxKey()), DocumentKeys.upperBound(3)) < 0);
    }

    @Test
    void encodingOneKeysConvert() {
        for (BsonValue id : fixedValues()) {
            RawBsonDocument d = new RawBsonDocument(new BsonDocument("_id", id), new BsonDocumentCodec());
            byte[] bytes = Arrays.copyOf(d.getByteBuffer().array(), d.getByteBuffer().limit());
            BsonCursor c = new BsonCursor(bytes, 0);
            c.next();
            byte[] old = new byte[5 + c.valueLength];
            old[3] = 9;
            old[4] = c.type;
            System.arraycopy(bytes, c.valueStart, old, 5, c.valueLength);
            assertArrayEquals(DocumentKeys.key(9, id), DocumentKeys.fromEncoding1(old));
        }
    }

    static List<BsonValue> fixedValues() {
        return List.of(new BsonMinKey(), new BsonMaxKey(), new BsonNull(), new BsonUndefined(),
                new BsonString(""), new BsonString("a"), new BsonString("a\0"), new BsonString("a\0b"), new BsonString("a\1"),
                new BsonString("ab"), new BsonString("b"), new BsonString("é"), new BsonString("\uD83D\uDE00"),
                new BsonSymbol("a"), new BsonSymbol("ab"),
                new BsonDocument(), new BsonDocument("a", new BsonInt32(1)), new BsonDocument("a", new BsonDouble(1.0)),
                new BsonDocument("a", new BsonInt32(1)).append("b", new BsonInt32(0)),
                new BsonDocument("a", new BsonString("x")), new BsonDocument("b", new BsonInt32(0)),
                new BsonDocument("a", new BsonDocument("b", new BsonNull())),
                new BsonArray(), new BsonArray(List.of(new BsonInt32(1))), new BsonArray(List.of(new BsonInt32(1), new BsonInt32(2))),
                new BsonBinary(new byte[0]), new BsonBinary(new byte[] {5}), new BsonBinary((byte) 4, new byte[] {1}),
                new BsonBinary(new byte[] {1, 2}), new BsonBinary((byte) 0x80, new byte[] {(byte) 0xFF}),
                new BsonObjectId(new ObjectId("000000000000000000000000")), new BsonObjectId(new ObjectId("ffffffffffffffffffffffff")),
                new BsonObjectId(new ObjectId("7fffffffffffffffffffffff")), new BsonObjectId(new ObjectId("800000000000000000000000")),
                BsonBoolean.FALSE, BsonBoolean.TRUE,
                new BsonDateTime(Long.MIN_VALUE), new BsonDateTime(-1), new BsonDateTime(0), new BsonDateTime(1), new BsonDateTime(Long.MAX_VALUE),
                new BsonTimestamp(0, 0), new BsonTimestamp(0, 1), new BsonTimestamp(1, 0), new BsonTimestamp(-1, -1),
                new BsonTimestamp(Integer.MIN_VALUE, 0),
                new BsonRegularExpression("a", ""), new BsonRegularExpression("a", "i"), new BsonRegularExpression("ab", ""),
                new BsonDbPointer("db.c", new ObjectId("000000000000000000000001")), new BsonDbPointer("d", new ObjectId("000000000000000000000001")),
                new BsonJavaScript("f()"), new BsonJavaScript("g()"),
                new BsonJavaScriptWithScope("f()", new BsonDocument("x", new BsonInt32(1))),
                new BsonJavaScriptWithScope("f()", new BsonDocument()));
    }

    static BsonValue randomValue(Random r, int depth) {
        int kind = r.nextInt(depth < 2 ? 16 : 13);
        switch (kind) {
            case 0: return new BsonInt32(smallOrAny(r) ? r.nextInt(200) - 100 : r.nextInt());
            case 1: return new BsonInt64(smallOrAny(r) ? r.nextInt(200) - 100 : r.nextLong());
            case 2: {
                double d = switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(200) - 100;
                    case 1 -> (r.nextInt(2000) - 1000) / 8.0;
                    case 2 -> Double.longBitsToDouble(r.nextLong());
                    default -> r.nextGaussian() * 1e6;
                };
                return new BsonDouble(d);
            }
            case 3: {
                String[] forms = {"%d", "%d.0", "%d.50", "-%d.25", "%dE+3", "%dE-5", "%d.1234567890123456789012345678901"};
                return new BsonDecimal128(Decimal128.parse(String.format(forms[r.nextInt(forms.length)], r.nextInt(120))));
            }
            case 4, 5: return new BsonString(randomString(r));
            case 6: return new BsonSymbol(randomString(r));
            case 7: return new BsonObjectId(new ObjectId(randomBytes(r, 12)));
            case 8: return new BsonBinary((byte) r.nextInt(6), randomBytes(r, r.nextInt(4)));
            case 9: return new BsonDateTime(smallOrAny(r) ? r.nextInt(2000) - 1000 : r.nextLong());
            case 10: return new BsonTimestamp(r.nextLong());
            case 11: return r.nextBoolean() ? BsonBoolean.TRUE : BsonBoolean.FALSE;
            case 12: return List.<BsonValue>of(new BsonNull(), new BsonMinKey(), new BsonMaxKey(), new BsonUndefined(),
                    new BsonRegularExpression(randomString(r).replace("\0", ""), r.nextBoolean() ? "i" : "")).get(r.nextInt(5));
            case 13, 14: {
                BsonDocument d = new BsonDocument();
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    d.append(String.valueOf((char) ('a' + r.nextInt(3))) + (r.nextBoolean() ? "" : "b"), randomValue(r, depth + 1));
                }
                return d;
            }
            default: {
                BsonArray a = new BsonArray();
                int n = r.nextInt(3);
                for (int i = 0; i < n; i++) {
                    a.add(randomValue(r, depth + 1));
                }
                return a;
            }
        }
    }

    private static boolean smallOrAny(Random r) {
        return r.nextInt(3) > 0;
    }

    private static String randomString(Random r) {
        char[] alphabet = {'a', 'b', '\0', 'z', 'é', '\u00ff', '0'};
        StringBuilder s = new StringBuilder();
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
            s.append(alphabet[r.nextInt(alphabet.length)]);
        }
        return s.toString();
    }

    private static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    /** The _id's exact stored form: its BSON type and bytes inside a one-field document. */
    static byte[] raw(BsonValue id) {
        RawBsonDocument d = new RawBsonDocument(new BsonDocument("_id", id), new BsonDocumentCodec());
        return Arrays.copyOf(d.getByteBuffer().array(), d.getByteBuffer().limit());
    }
}
