package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.MalformedBsonException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;

import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.types.Decimal128;

/**
 * The one encoder of head document keys: everything that builds, parses or range-scans a key of
 * the {@code docs} column family (or of anything else keyed by document) goes through here.
 *
 * <p>Encoding {@value #ENCODING}: 4-byte big-endian namespace id, then an <em>order part</em>
 * whose bytewise order is the order in which MongoDB's {@code _id} index (no collation) sorts the
 * {@code _id} values, then a <em>form part</em> that records what the order part leaves out, so
 * the key gives back the stored {@code _id}'s exact type and bytes ({@link #id}).
 *
 * <p>The order part follows MongoDB's canonical type order: MinKey &lt; Undefined &lt; Null &lt;
 * numbers &lt; String/Symbol &lt; Object &lt; Array &lt; BinData &lt; ObjectId &lt; Boolean &lt;
 * Date &lt; Timestamp &lt; RegEx &lt; DBPointer &lt; Code &lt; CodeWScope &lt; MaxKey; a class byte
 * per value, then:
 * <ul>
 * <li>numbers (int32, int64, double, decimal128) by exact value: NaN first, then -inf, negatives,
 * zero (-0 = 0), positives, +inf. A finite non-zero magnitude is 0.d1d2…dn × 10^E: E as two
 * bytes, then the digits two per byte and a 0 terminator, all complemented for negatives. Exact
 * values rather than doubles, so the long 2^53+1 sorts after the double 2^53 and decimals
 * interleave correctly;</li>
 * <li>strings and symbols bytewise (the simple collation), 0x00 escaped as 00 FF and ended by 00
 * 01, so a string sorts before its extensions; code likewise;</li>
 * <li>documents and arrays element by element (class byte, field name, value), ended by 00: below
 * every class byte, so a document sorts before its extensions;</li>
 * <li>BinData by length (4 bytes big-endian), then subtype, then bytes; ObjectIds as their 12
 * bytes; booleans false &lt; true; dates as signed, timestamps as unsigned 64-bit big-endian;
 * regexes by pattern then flags; DBPointers by size then bytes.</li>
 * </ul>
 * The order part is prefix-free: of two different order parts neither is a prefix of the other,
 * so the first differing byte decides and the form part only orders keys MongoDB holds equal.
 *
 * <p>The form part: for every number and string-like value, in the order they appear, its BSON
 * type byte (int 1, long 1 and double 1.0 share an order part and differ here); decimals add their
 * 16 bytes (1.0 and 1.00 are different decimals), and so do doubles whose bits the value does not
 * give back (NaN payloads, -0). So two {@code _id}s MongoDB stores differently never share a key,
 * as with encoding 1, and most keys pay one byte for it (ObjectIds none). Two such {@code _id}s
 * cannot both exist in a collection (its unique index holds them equal), and MongoDB refers to a
 * document in the oplog by its stored {@code _id}, so exact keys find it.
 *
 * <p>Encoding 1 (before) was the namespace id, the type byte and the raw value bytes: integers and
 * doubles are little-endian there, so increasing ids were scattered over the key space. Heads in
 * it are rewritten on open ({@link KeyMigration}).
 */
final class DocumentKeys {
    /** The key encoding this build writes; heads record theirs (see {@link HeadReader#keyEncoding()}). */
    static final int ENCODING = 2;

    private static final int END = 0x00;
    private static final int MIN_KEY = 0x05;
    private static final int UNDEFINED = 0x0A;
    private static final int NULL = 0x0F;
    private static final int NUMBER = 0x14;
    private static final int STRING = 0x19;
    private static final int OBJECT = 0x1E;
    private static final int ARRAY = 0x23;
    private static final int BINARY = 0x28;
    private static final int OBJECT_ID = 0x2D;
    private static final int BOOLEAN = 0x32;
    private static final int DATE = 0x37;
    private static final int TIMESTAMP = 0x3C;
    private static final int REGEX = 0x41;
    private static final int DB_POINTER = 0x46;
    private static final int CODE = 0x4B;
    private static final int CODE_W_SCOPE = 0x50;
    private static final int MAX_KEY = 0xF0;

    private static final int NAN = 0x01;
    private static final int NEG_INF = 0x02;
    private static final int NEGATIVE = 0x03;
    private static final int ZERO = 0x04;
    private static final int POSITIVE = 0x05;
    private static final int POS_INF = 0x06;
    /** Exponents are stored with this offset in two bytes (decimal128 needs about ±6200). */
    private static final int EXPONENT_BIAS = 0x8000;
    /** Form tag of a double whose bits follow (NaN, -0). */
    private static final int RAW_DOUBLE = 0x81;

    private DocumentKeys() {
    }

    /** The key of the {@code _id} of BSON type {@code idType} whose value is {@code buf[valueStart, +valueLength)}. */
    static byte[] key(int nsId, byte idType, byte[] buf, int valueStart, int valueLength) {
        // Every update and insert computes a key: the common _id types are written straight into
        // a key of their exact size, without the general path's buffers.
        switch (idType) {
            case Bson.OBJECT_ID: {
                byte[] k = new byte[17];
                writeNsId(k, nsId);
                k[4] = OBJECT_ID;
                System.arraycopy(buf, valueStart, k, 5, 12);
                return k;
            }
            case Bson.INT32:
                return integerKey(nsId, Bson.readInt(buf, valueStart), Bson.INT32);
            case Bson.INT64:
                return integerKey(nsId, Bson.readLong(buf, valueStart), Bson.INT64);
            default:
                break;
        }
        Out order = new Out(8 + valueLength + valueLength / 2);
        Out form = new Out(4);
        order.nsId(nsId);
        order.put(classOf(idType));
        encodeBody(idType, buf, valueStart, valueLength, order, form);
        return order.append(form).toArray();
    }

    static byte[] key(int nsId, BsonValue id) {
        RawBsonDocument d = new RawBsonDocument(new BsonDocument("_id", id), new BsonDocumentCodec());
        var bb = d.getByteBuffer();
        BsonCursor c = new BsonCursor(bb.array(), bb.position());
        c.next();
        return key(nsId, c.type, c.buf, c.valueStart, c.valueLength);
    }

    /** The stored {@code _id} a key was made of, exactly (type and bytes). */
    static BsonValue id(byte[] key) {
        int orderEnd = new Decoder(key, 4, key.length).skipValue();
        Out bson = new Out(key.length + 16);
        bson.intLE(0);
        int typeAt = bson.length;
        bson.put(0);
        bson.cstring("_id");
        Decoder d = new Decoder(key, 4, orderEnd);
        d.formPos = orderEnd;
        byte type = d.decodeValue(bson);
        // After the call: decoding may have grown the buffer.
        bson.bytes[typeAt] = type;
        if (d.formPos != key.length) {
            throw new IllegalArgumentException("not a document key: trailing bytes");
        }
        bson.put(0);
        bson.patchIntLE(0, bson.length);
        return new RawBsonDocument(bson.toArray()).get("_id");
    }

    static byte[] prefix(int nsId) {
        return new Out(4).nsId(nsId).toArray();
    }

    /** First key after every key of {@code nsId}; ids are positive ints, so this never wraps. */
    static byte[] upperBound(int nsId) {
        return prefix(nsId + 1);
    }

    /** The key of an int32 or int64 {@code _id}: the general path's bytes (see {@link #encodeLong}), directly. */
    private static byte[] integerKey(int nsId, long v, byte form) {
        if (v == 0 || v == Long.MIN_VALUE) {
            Out order = new Out(16).nsId(nsId).put(NUMBER);
            encodeLong(v, order);
            return order.put(form).toArray();
        }
        long m = Math.abs(v);
        int digits = 1;
        for (long r = m / 10; r != 0; r /= 10) {
            digits++;
        }
        long significant = m;
        int kept = digits;
        while (significant % 10 == 0) {
            significant /= 10;
            kept--;
        }
        int pairs = (kept + 1) / 2;
        byte[] k = new byte[4 + 1 + 1 + 2 + pairs + 1 + 1];
        writeNsId(k, nsId);
        k[4] = NUMBER;
        k[5] = (byte) (v < 0 ? NEGATIVE : POSITIVE);
        int flip = v < 0 ? 0xFF : 0;
        int exponent = digits + EXPONENT_BIAS;
        k[6] = (byte) ((exponent >>> 8) ^ flip);
        k[7] = (byte) (exponent ^ flip);
        // Pairs from the least significant end; an odd count leaves the last digit alone, as "d0".
        long rest = significant;
        if (kept % 2 == 1) {
            k[8 + pairs - 1] = (byte) (((rest % 10) * 10 + 1) ^ flip);
            rest /= 10;
            for (int i = pairs - 2; i >= 0; i--) {
                k[8 + i] = (byte) ((rest % 100 + 1) ^ flip);
                rest /= 100;
            }
        } else {
            for (int i = pairs - 1; i >= 0; i--) {
                k[8 + i] = (byte) ((rest % 100 + 1) ^ flip);
                rest /= 100;
            }
        }
        k[8 + pairs] = (byte) flip;
        k[9 + pairs] = form;
        return k;
    }

    private static void writeNsId(byte[] k, int nsId) {
        k[0] = (byte) (nsId >>> 24);
        k[1] = (byte) (nsId >>> 16);
        k[2] = (byte) (nsId >>> 8);
        k[3] = (byte) nsId;
    }

    static int nsId(byte[] key) {
        return (key[0] & 0xFF) << 24 | (key[1] & 0xFF) << 16 | (key[2] & 0xFF) << 8 | (key[3] & 0xFF);
    }

    /**
     * The encoding-2 key of an encoding-1 key (namespace id, type byte, raw value bytes): what
     * {@link KeyMigration} rewrites heads with.
     */
    static byte[] fromEncoding1(byte[] oldKey) {
        return key(nsId(oldKey), oldKey[4], oldKey, 5, oldKey.length - 5);
    }

    private static int classOf(byte type) {
        switch (type) {
            case Bson.MIN_KEY: return MIN_KEY;
            case Bson.UNDEFINED: return UNDEFINED;
            case Bson.NULL: return NULL;
            case Bson.DOUBLE, Bson.INT32, Bson.INT64, Bson.DECIMAL128: return NUMBER;
            case Bson.STRING, Bson.SYMBOL: return STRING;
            case Bson.DOCUMENT: return OBJECT;
            case Bson.ARRAY: return ARRAY;
            case Bson.BINARY: return BINARY;
            case Bson.OBJECT_ID: return OBJECT_ID;
            case Bson.BOOLEAN: return BOOLEAN;
            case Bson.DATE: return DATE;
            case Bson.TIMESTAMP: return TIMESTAMP;
            case Bson.REGEX: return REGEX;
            case Bson.DB_POINTER: return DB_POINTER;
            case Bson.JAVASCRIPT: return CODE;
            case Bson.JAVASCRIPT_WITH_SCOPE: return CODE_W_SCOPE;
            case Bson.MAX_KEY: return MAX_KEY;
            default: throw new MalformedBsonException("unknown BSON type " + type);
        }
    }

    /** Writes the value after its class byte: its order bytes to {@code order}, its form to {@code form}. */
    private static void encodeBody(byte type, byte[] b, int v, int len, Out order, Out form) {
        switch (type) {
            case Bson.MIN_KEY, Bson.MAX_KEY, Bson.UNDEFINED, Bson.NULL -> {
            }
            case Bson.INT32 -> {
                encodeLong(Bson.readInt(b, v), order);
                form.put(Bson.INT32);
            }
            case Bson.INT64 -> {
                encodeLong(Bson.readLong(b, v), order);
                form.put(Bson.INT64);
            }
            case Bson.DOUBLE -> {
                double d = Double.longBitsToDouble(Bson.readLong(b, v));
                encodeDouble(d, order);
                if (Double.isNaN(d) || (d == 0 && 1 / d < 0)) {
                    form.put(RAW_DOUBLE).put(b, v, 8);
                } else {
                    form.put(Bson.DOUBLE);
                }
            }
            case Bson.DECIMAL128 -> {
                encodeDecimal(Decimal128.fromIEEE754BIDEncoding(Bson.readLong(b, v + 8), Bson.readLong(b, v)), order);
                form.put(Bson.DECIMAL128).put(b, v, 16);
            }
            case Bson.STRING, Bson.SYMBOL -> {
                order.escaped(b, v + 4, Bson.readInt(b, v) - 1);
                form.put(type);
            }
            case Bson.JAVASCRIPT -> order.escaped(b, v + 4, Bson.readInt(b, v) - 1);
            case Bson.DOCUMENT, Bson.ARRAY -> encodeDocument(b, v, order, form);
            case Bson.BINARY -> {
                int n = Bson.readInt(b, v);
                order.intBE(n).put(b[v + 4]).put(b, v + 5, n);
            }
            case Bson.OBJECT_ID -> order.put(b, v, 12);
            case Bson.BOOLEAN -> order.put(b[v]);
            case Bson.DATE -> order.longBE(Bson.readLong(b, v) ^ Long.MIN_VALUE);
            case Bson.TIMESTAMP -> order.longBE(Bson.readLong(b, v));
            // Pattern and flags are C strings (no 0 inside): their raw bytes already order and end.
            case Bson.REGEX -> order.put(b, v, len);
            case Bson.DB_POINTER -> order.intBE(len).put(b, v, len);
            case Bson.JAVASCRIPT_WITH_SCOPE -> {
                int codeLen = Bson.readInt(b, v + 4);
                order.escaped(b, v + 8, codeLen - 1);
                encodeDocument(b, v + 8 + codeLen, order, form);
            }
            default -> throw new MalformedBsonException("unknown BSON type " + type);
        }
    }

    /**
     * A document or array: class byte, name and value of each element, then END. Arrays keep their
     * field names too ("0", "1", … in any valid array, so the order is MongoDB's), which keeps the
     * stored bytes exact whatever they are.
     */
    private static void encodeDocument(byte[] b, int docStart, Out order, Out form) {
        BsonCursor c = new BsonCursor(b, docStart);
        while (c.next()) {
            order.put(classOf(c.type));
            order.put(b, c.nameStart, c.nameLength).put(0);
            encodeBody(c.type, b, c.valueStart, c.valueLength, order, form);
        }
        order.put(END);
    }

    private static void encodeLong(long v, Out order) {
        if (v == 0) {
            order.put(ZERO);
            return;
        }
        // Long.MIN_VALUE's magnitude, 2^63, is right as an unsigned long.
        long m = v < 0 ? -v : v;
        byte[] digits = new byte[20];
        int n = 0;
        for (long r = m; r != 0; r = Long.divideUnsigned(r, 10)) {
            digits[n++] = (byte) Long.remainderUnsigned(r, 10);
        }
        // digits holds the least significant first; E is the digit count.
        int exponent = n;
        int low = 0;
        while (digits[low] == 0) {
            low++;
        }
        order.put(v < 0 ? NEGATIVE : POSITIVE);
        int start = order.length;
        order.put((exponent + EXPONENT_BIAS) >>> 8).put(exponent + EXPONENT_BIAS);
        for (int i = n - 1; i >= low; i -= 2) {
            int a = digits[i];
            int second = i - 1 >= low ? digits[i - 1] : 0;
            order.put(a * 10 + second + 1);
        }
        order.put(0);
        if (v < 0) {
            order.complement(start);
        }
    }

    private static void encodeDouble(double d, Out order) {
        if (Double.isNaN(d)) {
            order.put(NAN);
        } else if (Double.isInfinite(d)) {
            order.put(d < 0 ? NEG_INF : POS_INF);
        } else if (d == Math.rint(d) && Math.abs(d) < 0x1p63) {
            encodeLong((long) d, order);
        } else {
            encodeDecimal(new BigDecimal(d), order);
        }
    }

    private static void encodeDecimal(Decimal128 d, Out order) {
        if (d.isNaN()) {
            order.put(NAN);
        } else if (d.isInfinite()) {
            order.put(d.isNegative() ? NEG_INF : POS_INF);
        } else {
            BigDecimal v;
            try {
                v = d.bigDecimalValue();
            } catch (ArithmeticException negativeZero) {
                v = BigDecimal.ZERO;
            }
            encodeDecimal(v, order);
        }
    }

    /** A finite number by exact value (see the class comment). */
    private static void encodeDecimal(BigDecimal v, Out order) {
        if (v.signum() == 0) {
            order.put(ZERO);
            return;
        }
        BigDecimal m = v.abs().stripTrailingZeros();
        String digits = m.unscaledValue().toString();
        int exponent = digits.length() - m.scale();
        order.put(v.signum() < 0 ? NEGATIVE : POSITIVE);
        int start = order.length;
        order.put((exponent + EXPONENT_BIAS) >>> 8).put(exponent + EXPONENT_BIAS);
        for (int i = 0; i < digits.length(); i += 2) {
            int a = digits.charAt(i) - '0';
            int second = i + 1 < digits.length() ? digits.charAt(i + 1) - '0' : 0;
            order.put(a * 10 + second + 1);
        }
        order.put(0);
        if (v.signum() < 0) {
            order.complement(start);
        }
    }

    /** Reads a key's order part back; with a BSON output, takes each number's and string's form from {@link #formPos}. */
    private static final class Decoder {
        private final byte[] k;
        private int pos;
        private final int end;
        int formPos;

        Decoder(byte[] k, int pos, int end) {
            this.k = k;
            this.pos = pos;
            this.end = end;
        }

        private int next() {
            if (pos >= end) {
                throw new IllegalArgumentException("not a document key: truncated");
            }
            return k[pos++] & 0xFF;
        }

        /** Skips one value (class byte and body); returns where it ends. */
        int skipValue() {
            decode(next(), null);
            return pos;
        }

        /** Decodes one value into {@code out} (its BSON value bytes); returns its BSON type. */
        byte decodeValue(Out out) {
            return decode(next(), out);
        }

        private byte decode(int cls, Out out) {
            switch (cls) {
                case MIN_KEY: return Bson.MIN_KEY;
                case MAX_KEY: return Bson.MAX_KEY;
                case UNDEFINED: return Bson.UNDEFINED;
                case NULL: return Bson.NULL;
                case NUMBER: return number(out);
                case STRING: {
                    byte[] s = unescape();
                    byte type = out == null ? Bson.STRING : (byte) k[formPos++];
                    if (out != null) {
                        out.intLE(s.length + 1).put(s, 0, s.length).put(0);
                    }
                    return type;
                }
                case CODE: {
                    byte[] s = unescape();
                    if (out != null) {
                        out.intLE(s.length + 1).put(s, 0, s.length).put(0);
                    }
                    return Bson.JAVASCRIPT;
                }
                case OBJECT: document(out); return Bson.DOCUMENT;
                case ARRAY: document(out); return Bson.ARRAY;
                case BINARY: {
                    int n = intBE();
                    int sub = next();
                    if (out != null) {
                        out.intLE(n).put(sub);
                    }
                    copy(n, out);
                    return Bson.BINARY;
                }
                case OBJECT_ID: copy(12, out); return Bson.OBJECT_ID;
                case BOOLEAN: copy(1, out); return Bson.BOOLEAN;
                case DATE: {
                    long v = longBE() ^ Long.MIN_VALUE;
                    if (out != null) {
                        out.longLE(v);
                    }
                    return Bson.DATE;
                }
                case TIMESTAMP: {
                    long v = longBE();
                    if (out != null) {
                        out.longLE(v);
                    }
                    return Bson.TIMESTAMP;
                }
                case REGEX: {
                    int start = pos;
                    skipCstring();
                    skipCstring();
                    if (out != null) {
                        out.put(k, start, pos - start);
                    }
                    return Bson.REGEX;
                }
                case DB_POINTER: copy(intBE(), out); return Bson.DB_POINTER;
                case CODE_W_SCOPE: {
                    byte[] code = unescape();
                    int at = out == null ? 0 : out.length;
                    if (out != null) {
                        out.intLE(0).intLE(code.length + 1).put(code, 0, code.length).put(0);
                    }
                    document(out);
                    if (out != null) {
                        out.patchIntLE(at, out.length - at);
                    }
                    return Bson.JAVASCRIPT_WITH_SCOPE;
                }
                default: throw new IllegalArgumentException("not a document key: class " + cls);
            }
        }

        private void document(Out out) {
            int at = out == null ? 0 : out.length;
            if (out != null) {
                out.intLE(0);
            }
            for (int cls = next(); cls != END; cls = next()) {
                int typeAt = out == null ? 0 : out.length;
                if (out != null) {
                    out.put(0);
                }
                int nameStart = pos;
                skipCstring();
                if (out != null) {
                    out.put(k, nameStart, pos - nameStart);
                }
                byte type = decode(cls, out);
                if (out != null) {
                    out.bytes[typeAt] = type;
                }
            }
            if (out != null) {
                out.put(0);
                out.patchIntLE(at, out.length - at);
            }
        }

        private byte number(Out out) {
            int sign = next();
            BigDecimal value = null;
            if (sign == NEGATIVE || sign == POSITIVE) {
                int flip = sign == NEGATIVE ? 0xFF : 0;
                int exponent = ((next() ^ flip) << 8 | (next() ^ flip)) - EXPONENT_BIAS;
                StringBuilder digits = new StringBuilder();
                for (int d = next() ^ flip; d != 0; d = next() ^ flip) {
                    digits.append((char) ('0' + (d - 1) / 10)).append((char) ('0' + (d - 1) % 10));
                }
                BigInteger unscaled = new BigInteger(digits.toString());
                value = new BigDecimal(sign == NEGATIVE ? unscaled.negate() : unscaled, digits.length() - exponent);
            } else if (sign < NAN || sign > POS_INF) {
                throw new IllegalArgumentException("not a document key: number " + sign);
            }
            if (out == null) {
                return Bson.DOUBLE;
            }
            int form = k[formPos++] & 0xFF;
            switch (form) {
                case Bson.INT32 -> out.intLE(value == null ? 0 : value.intValueExact());
                case Bson.INT64 -> out.longLE(value == null ? 0 : value.longValueExact());
                case Bson.DOUBLE -> out.longLE(Double.doubleToRawLongBits(switch (sign) {
                    case NEG_INF -> Double.NEGATIVE_INFINITY;
                    case POS_INF -> Double.POSITIVE_INFINITY;
                    case ZERO -> 0.0;
                    default -> value.doubleValue();
                }));
                case RAW_DOUBLE, Bson.DECIMAL128 -> {
                    int n = form == RAW_DOUBLE ? 8 : 16;
                    out.put(k, formPos, n);
                    formPos += n;
                }
                default -> throw new IllegalArgumentException("not a document key: number form " + form);
            }
            return form == RAW_DOUBLE ? Bson.DOUBLE : (byte) form;
        }

        private byte[] unescape() {
            Out s = new Out(16);
            while (true) {
                int c = next();
                if (c != 0) {
                    s.put(c);
                } else if (next() == 0xFF) {
                    s.put(0);
                } else {
                    return s.toArray();
                }
            }
        }

        private void skipCstring() {
            while (next() != 0) {
                // to the terminator, included
            }
        }

        private void copy(int n, Out out) {
            if (n < 0 || pos + n > end) {
                throw new IllegalArgumentException("not a document key: truncated");
            }
            if (out != null) {
                out.put(k, pos, n);
            }
            pos += n;
        }

        private int intBE() {
            return next() << 24 | next() << 16 | next() << 8 | next();
        }

        private long longBE() {
            return (long) intBE() << 32 | (intBE() & 0xFFFFFFFFL);
        }
    }

    /** A growable byte buffer. */
    private static final class Out {
        byte[] bytes;
        int length;

        Out(int capacity) {
            bytes = new byte[Math.max(capacity, 4)];
        }

        private void ensure(int more) {
            if (length + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
            }
        }

        Out put(int b) {
            ensure(1);
            bytes[length++] = (byte) b;
            return this;
        }

        Out put(byte[] b, int off, int n) {
            ensure(n);
            System.arraycopy(b, off, bytes, length, n);
            length += n;
            return this;
        }

        Out append(Out o) {
            return put(o.bytes, 0, o.length);
        }

        Out nsId(int nsId) {
            return intBE(nsId);
        }

        Out intBE(int v) {
            return put(v >>> 24).put(v >>> 16).put(v >>> 8).put(v);
        }

        Out longBE(long v) {
            return intBE((int) (v >>> 32)).intBE((int) v);
        }

        Out intLE(int v) {
            return put(v).put(v >>> 8).put(v >>> 16).put(v >>> 24);
        }

        Out longLE(long v) {
            return intLE((int) v).intLE((int) (v >>> 32));
        }

        void patchIntLE(int at, int v) {
            bytes[at] = (byte) v;
            bytes[at + 1] = (byte) (v >>> 8);
            bytes[at + 2] = (byte) (v >>> 16);
            bytes[at + 3] = (byte) (v >>> 24);
        }

        Out cstring(String ascii) {
            for (int i = 0; i < ascii.length(); i++) {
                put(ascii.charAt(i));
            }
            return put(0);
        }

        /** Bytes with 0x00 as 00 FF, ended by 00 01: bytewise order, and prefix-free. */
        Out escaped(byte[] b, int off, int n) {
            ensure(n + 2);
            for (int i = off; i < off + n; i++) {
                if (b[i] == 0) {
                    put(0).put(0xFF);
                } else {
                    put(b[i]);
                }
            }
            return put(0).put(1);
        }

        void complement(int from) {
            for (int i = from; i < length; i++) {
                bytes[i] = (byte) ~bytes[i];
            }
        }

        byte[] toArray() {
            return Arrays.copyOf(bytes, length);
        }
    }
}
