package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.MalformedBsonException;
import java.util.Base64;
import java.util.UUID;

import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * The fields of one oplog entry (or of one operation inside an applyOps) that application needs,
 * read in a single pass over the raw bytes. Offsets point into the entry's own buffer, so nothing
 * is copied until a document is stored.
 */
final class OplogEntry {
    private static final JsonWriterSettings JSON = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();

    final byte[] buf;
    final int start;
    final int length;

    String op;
    /** Offset of the ns string value, or -1; decoded on demand by {@link #ns()}. */
    int nsValue = -1;
    private String ns;
    UUID ui;
    /** Start of the {@code o} document, or -1. */
    int o = -1;
    /** Start of the {@code o2} document, or -1. */
    int o2 = -1;
    /** The election term of an entry that carries none ({@code t} absent). */
    static final long UNKNOWN_TERM = -1;

    /** Null for operations nested in an applyOps, which carry no timestamp of their own. */
    BsonTimestamp ts;
    long term = UNKNOWN_TERM;
    int lsid = -1;
    int lsidLength;
    boolean hasTxnNumber;
    long txnNumber;
    /** prevOpTime.ts, or null when absent or the null optime Timestamp(0, 0) that starts a chain. */
    BsonTimestamp prevTs;

    private OplogEntry(byte[] buf, int start, int length) {
        this.buf = buf;
        this.start = start;
        this.length = length;
    }

    static OplogEntry parse(RawBsonDocument doc) {
        var bb = doc.getByteBuffer();
        return parse(bb.array(), bb.position());
    }

    static OplogEntry parse(byte[] buf, int start) {
        int len = Bson.docLength(buf, start);
        OplogEntry e = new OplogEntry(buf, start, len);
        BsonCursor c = new BsonCursor(buf, start);
        // Dispatch on the raw name bytes: this runs for every entry, so no String per field.
        while (c.next()) {
            byte n0 = c.nameLength > 0 ? buf[c.nameStart] : 0;
            switch (c.nameLength) {
                case 1 -> {
                    if (n0 == 't') {
                        if (c.type == Bson.INT64 || c.type == Bson.INT32) {
                            e.term = c.integralValue();
                        }
                    } else if (n0 == 'o') {
                        expect(c, Bson.DOCUMENT);
                        e.o = c.valueStart;
                    }
                }
                case 2 -> {
                    if (c.nameIs("ts")) {
                        expect(c, Bson.TIMESTAMP);
                        e.ts = new BsonTimestamp(c.longValue());
                    } else if (c.nameIs("op")) {
                        expect(c, Bson.STRING);
                        e.op = opName(c);
                    } else if (c.nameIs("ns")) {
                        expect(c, Bson.STRING);
                        e.nsValue = c.valueStart;
                    } else if (c.nameIs("ui")) {
                        e.ui = uuid(c);
                    } else if (c.nameIs("o2")) {
                        expect(c, Bson.DOCUMENT);
                        e.o2 = c.valueStart;
                    }
                }
                case 4 -> {
                    if (c.nameIs("lsid")) {
                        expect(c, Bson.DOCUMENT);
                        e.lsid = c.valueStart;
                        e.lsidLength = c.valueLength;
                    }
                }
                case 9 -> {
                    if (c.nameIs("txnNumber")) {
                        e.hasTxnNumber = true;
                        e.txnNumber = c.integralValue();
                    }
                }
                case 10 -> {
                    if (c.nameIs("prevOpTime")) {
                        expect(c, Bson.DOCUMENT);
                        BsonCursor p = new BsonCursor(buf, c.valueStart);
                        while (p.next()) {
                            if (p.nameIs("ts") && p.type == Bson.TIMESTAMP && p.longValue() != 0) {
                                e.prevTs = new BsonTimestamp(p.longValue());
                            }
                        }
                    }
                }
                default -> {
                }
            }
        }
        return e;
    }

    /** The common op codes are interned so parsing does not allocate them. */
    private static String opName(BsonCursor c) {
        if (c.intValue() == 2) {
            switch (c.buf[c.valueStart + 4]) {
                case 'i': return "i";
                case 'u': return "u";
                case 'd': return "d";
                case 'c': return "c";
                case 'n': return "n";
                default: break;
            }
        }
        return c.stringValue();
    }

    /** The entry's ns, or null when it has none. */
    String ns() {
        if (ns == null && nsValue >= 0) {
            ns = Bson.stringValue(buf, nsValue);
        }
        return ns;
    }

    private static void expect(BsonCursor c, byte type) {
        if (c.type != type) {
            throw new MalformedBsonException("field " + c.name() + " has BSON type 0x" + Integer.toHexString(c.type & 0xFF));
        }
    }

    static UUID uuid(BsonCursor c) {
        if (c.type != Bson.BINARY || c.intValue() != 16 || c.buf[c.valueStart + 4] != 4) {
            throw new MalformedBsonException("field " + c.name() + " is not a UUID (binary subtype 4)");
        }
        int p = c.valueStart + 5;
        long msb = 0;
        long lsb = 0;
        for (int i = 0; i < 8; i++) {
            msb = msb << 8 | (c.buf[p + i] & 0xFF);
            lsb = lsb << 8 | (c.buf[p + 8 + i] & 0xFF);
        }
        return new UUID(msb, lsb);
    }

    /** Name of the command an {@code op: "c"} entry carries: the first field of {@code o}. */
    String commandName() {
        BsonCursor c = new BsonCursor(buf, o);
        return c.next() ? c.name() : null;
    }

    boolean isTransactionEntry() {
        return lsid >= 0 && hasTxnNumber;
    }

    /** True for the applyOps entry that prepares a transaction. */
    boolean isPrepare() {
        return "c".equals(op) && o >= 0 && flag(o, "prepare");
    }

    boolean isPartial() {
        return "c".equals(op) && o >= 0 && flag(o, "partialTxn");
    }

    private boolean flag(int doc, String name) {
        BsonCursor c = new BsonCursor();
        return c.find(buf, doc, name) && c.truthy();
    }

    /** Number of operations in {@code o.applyOps}, 0 when there is none. */
    int applyOpsCount() {
        if (!"c".equals(op) || o < 0) {
            return 0;
        }
        BsonCursor c = new BsonCursor();
        if (!c.find(buf, o, "applyOps") || c.type != Bson.ARRAY) {
            return 0;
        }
        BsonCursor a = new BsonCursor(buf, c.valueStart);
        int n = 0;
        while (a.next()) {
            n++;
        }
        return n;
    }

    /** Transaction identity: the raw lsid document followed by the big-endian txnNumber. */
    byte[] transactionKey() {
        byte[] k = new byte[lsidLength + 8];
        System.arraycopy(buf, lsid, k, 0, lsidLength);
        for (int i = 0; i < 8; i++) {
            k[lsidLength + i] = (byte) (txnNumber >>> (56 - 8 * i));
        }
        return k;
    }

    byte[] copyBytes() {
        byte[] b = new byte[length];
        System.arraycopy(buf, start, b, 0, length);
        return b;
    }

    String json() {
        try {
            return new RawBsonDocument(buf, start, length).toJson(JSON);
        } catch (RuntimeException unreadable) {
            byte[] b = new byte[Math.max(0, Math.min(length, buf.length - start))];
            System.arraycopy(buf, start, b, 0, b.length);
            return "{\"$unparseableBsonBase64\": \"" + Base64.getEncoder().encodeToString(b) + "\"}";
        }
    }
}
