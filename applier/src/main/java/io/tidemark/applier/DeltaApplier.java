package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.BsonOut;
import java.util.HashMap;

/**
 * Applies a {@code $v: 2} delta ({@code {$v: 2, diff: {...}}}) to a document's raw bytes, producing
 * exactly the bytes MongoDB's doc_diff applier produces:
 *
 * <ul>
 *   <li>the pre-image's fields are walked in order: unmodified fields are copied, {@code u} fields
 *       are replaced where they stand, {@code d} fields and fields re-inserted by {@code i} are
 *       dropped, {@code s} sub-diffs recurse into the object or array in place;</li>
 *   <li>then {@code u} fields that were not in the pre-image, followed by all {@code i} fields,
 *       are appended in diff order;</li>
 *   <li>array diffs ({@code a: true}) truncate or extend to {@code l}, set {@code u<n>}, recurse
 *       into {@code s<n>}, and pad missing slots with null;</li>
 *   <li>{@code b} (time-series BSONColumn appends, MongoDB 8.0: {@code {o: offset, d: BinData}})
 *       keeps the first {@code o} bytes of the binary and appends {@code d}, in place.</li>
 * </ul>
 *
 * <p>Where MongoDB substitutes null because the pre-image does not have the shape the diff expects
 * (an idempotency rule for re-applying oplog during initial sync), lenient mode does the same;
 * strict mode (steady state) reports divergence instead, as it does for sub-diffs, deletes and
 * binary appends aimed at fields the head does not have.
 */
final class DeltaApplier {
    private static final byte DEL = 1;
    private static final byte UPD = 2;
    private static final byte INS = 3;
    private static final byte BIN = 4;
    private static final byte SUB_DOC = 5;
    private static final byte SUB_ARR = 6;

    private final BsonOut out = new BsonOut(4096);
    private boolean strict;

    /** Applies the diff document at {@code diffStart}; returns the new document's bytes. */
    byte[] apply(byte[] pre, int preStart, byte[] diff, int diffStart, boolean strictMode) {
        this.strict = strictMode;
        out.reset();
        DocDiff d = parseDocDiff(diff, diffStart);
        applyObject(pre, preStart, d, "");
        return out.toByteArray(0);
    }

    // ---------------------------------------------------------------- parsing

    /** The modifications of one object level, in diff order (deletes, updates, inserts, binaries, sub-diffs). */
    private static final class DocDiff {
        final byte[] buf;
        int n;
        byte[] kind = new byte[8];
        int[] nameStart = new int[8];
        int[] nameLength = new int[8];
        int[] elementStart = new int[8];
        int[] elementEnd = new int[8];
        int[] value = new int[8];
        HashMap<String, Integer> index;

        DocDiff(byte[] buf) {
            this.buf = buf;
        }

        void add(byte k, int ns, int nl, int es, int ee, int v) {
            if (n == kind.length) {
                int m = n * 2;
                kind = java.util.Arrays.copyOf(kind, m);
                nameStart = java.util.Arrays.copyOf(nameStart, m);
                nameLength = java.util.Arrays.copyOf(nameLength, m);
                elementStart = java.util.Arrays.copyOf(elementStart, m);
                elementEnd = java.util.Arrays.copyOf(elementEnd, m);
                value = java.util.Arrays.copyOf(value, m);
            }
            kind[n] = k;
            nameStart[n] = ns;
            nameLength[n] = nl;
            elementStart[n] = es;
            elementEnd[n] = ee;
            value[n] = v;
            n++;
        }

        String name(int i) {
            return Bson.string(buf, nameStart[i], nameLength[i]);
        }

        /** Index of the modification for field name {@code b[s..s+l)}, or -1. */
        int find(byte[] b, int s, int l) {
            if (index != null) {
                Integer i = index.get(Bson.string(b, s, l));
                return i == null ? -1 : i;
            }
            outer:
            for (int i = 0; i < n; i++) {
                if (nameLength[i] != l) {
                    continue;
                }
                int p = nameStart[i];
                for (int j = 0; j < l; j++) {
                    if (buf[p + j] != b[s + j]) {
                        continue outer;
                    }
                }
                return i;
            }
            return -1;
        }

        /** MongoDB rejects a diff naming one field twice; a large diff gets a hash index. */
        void checkUnique() {
            if (n > 16) {
                index = new HashMap<>(n * 2);
                for (int i = 0; i < n; i++) {
                    if (index.put(name(i), i) != null) {
                        throw EntryFailure.unsupported("duplicate field name in diff: " + name(i));
                    }
                }
                return;
            }
            for (int i = 1; i < n; i++) {
                int saved = n;
                n = i;
                int dup = find(buf, nameStart[i], nameLength[i]);
                n = saved;
                if (dup >= 0) {
                    throw EntryFailure.unsupported("duplicate field name in diff: " + name(i));
                }
            }
        }
    }

    private static int sectionOrder(byte c) {
        return switch (c) {
            case 'd' -> 1;
            case 'u' -> 2;
            case 'i' -> 3;
            case 'b' -> 4;
            case 's' -> 5;
            default -> -1;
        };
    }

    private static DocDiff parseDocDiff(byte[] buf, int start) {
        DocDiff d = new DocDiff(buf);
        BsonCursor c = new BsonCursor(buf, start);
        if (!c.next()) {
            throw EntryFailure.unsupported("malformed diff: expected diff to be non-empty");
        }
        int prev = 0;
        do {
            if (c.nameLength == 0) {
                throw EntryFailure.unsupported("malformed diff: empty section name");
            }
            byte section = buf[c.nameStart];
            int order = sectionOrder(section);
            if (section == 's') {
                prev = 5;
                if (c.type != Bson.DOCUMENT) {
                    throw EntryFailure.unsupported("malformed diff: sub-diff " + c.name() + " is not an object");
                }
                boolean isArray = isArrayDiff(buf, c.valueStart);
                d.add(isArray ? SUB_ARR : SUB_DOC, c.nameStart + 1, c.nameLength - 1, c.elementStart, c.elementEnd(), c.valueStart);
                continue;
            }
            if (order < 0 || order <= prev || c.nameLength != 1) {
                throw EntryFailure.unsupported("malformed diff: unexpected section " + c.name());
            }
            if (c.type != Bson.DOCUMENT) {
                throw EntryFailure.unsupported("malformed diff: section " + c.name() + " is not an object");
            }
            prev = order;
            byte kind = switch (section) {
                case 'd' -> DEL;
                case 'u' -> UPD;
                case 'i' -> INS;
                default -> BIN;
            };
            BsonCursor f = new BsonCursor(buf, c.valueStart);
            while (f.next()) {
                if (kind == BIN && f.type != Bson.DOCUMENT) {
                    throw EntryFailure.unsupported("malformed diff: binary diff for " + f.name() + " is not an object");
                }
                d.add(kind, f.nameStart, f.nameLength, f.elementStart, f.elementEnd(), f.valueStart);
            }
        } while (c.next());
        d.checkUnique();
        return d;
    }

    private static boolean isArrayDiff(byte[] buf, int start) {
        BsonCursor c = new BsonCursor(buf, start);
        if (!c.next()) {
            throw EntryFailure.unsupported("malformed diff: expected diff to be non-empty");
        }
        return c.nameIs("a");
    }

    /** An array diff: optional new length and modifications in ascending index order. */
    private static final class ArrayDiff {
        final byte[] buf;
        int resize = -1;
        int n;
        int[] index = new int[8];
        byte[] kind = new byte[8];
        int[] value = new int[8];
        byte[] valueType = new byte[8];
        int[] valueLength = new int[8];

        ArrayDiff(byte[] buf) {
            this.buf = buf;
        }

        void add(int idx, byte k, byte type, int v, int vl) {
            if (n == index.length) {
                int m = n * 2;
                index = java.util.Arrays.copyOf(index, m);
                kind = java.util.Arrays.copyOf(kind, m);
                value = java.util.Arrays.copyOf(value, m);
                valueType = java.util.Arrays.copyOf(valueType, m);
                valueLength = java.util.Arrays.copyOf(valueLength, m);
            }
            index[n] = idx;
            kind[n] = k;
            valueType[n] = type;
            value[n] = v;
            valueLength[n] = vl;
            n++;
        }
    }

    private static ArrayDiff parseArrayDiff(byte[] buf, int start) {
        ArrayDiff a = new ArrayDiff(buf);
        BsonCursor c = new BsonCursor(buf, start);
        if (!c.next() || !c.nameIs("a") || c.type != Bson.BOOLEAN || !c.booleanValue()) {
            throw EntryFailure.unsupported("malformed diff: array diff must start with a: true");
        }
        boolean more = c.next();
        if (more && c.nameIs("l")) {
            if (c.type != Bson.INT32 || c.intValue() < 0) {
                throw EntryFailure.unsupported("malformed diff: array resize l must be a non-negative int32");
            }
            a.resize = c.intValue();
            more = c.next();
        }
        int last = -1;
        while (more) {
            if (c.nameLength < 2) {
                throw EntryFailure.unsupported("malformed diff: array modification " + c.name());
            }
            int idx = parseIndex(buf, c.nameStart + 1, c.nameLength - 1);
            if (idx < 0) {
                throw EntryFailure.unsupported("malformed diff: bad array index in " + c.name());
            }
            if (idx <= last) {
                throw EntryFailure.unsupported("malformed diff: array modifications out of order at " + c.name());
            }
            last = idx;
            byte section = buf[c.nameStart];
            if (section == 'u') {
                a.add(idx, UPD, c.type, c.valueStart, c.valueLength);
            } else if (section == 's') {
                if (c.type != Bson.DOCUMENT) {
                    throw EntryFailure.unsupported("malformed diff: sub-diff " + c.name() + " is not an object");
                }
                a.add(idx, isArrayDiff(buf, c.valueStart) ? SUB_ARR : SUB_DOC, c.type, c.valueStart, c.valueLength);
            } else {
                throw EntryFailure.unsupported("malformed diff: expected u<n> or s<n> in array diff, got " + c.name());
            }
            more = c.next();
        }
        if (a.resize >= 0 && a.n > 0 && a.index[a.n - 1] >= a.resize) {
            throw EntryFailure.unsupported("malformed diff: array modification past the new length " + a.resize);
        }
        return a;
    }

    /** Parses an unsigned decimal; -1 when not a number or too large. */
    static int parseIndex(byte[] b, int s, int l) {
        if (l == 0 || l > 9) {
            return -1;
        }
        int v = 0;
        for (int i = 0; i < l; i++) {
            int d = b[s + i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    // ---------------------------------------------------------------- application

    private void applyObject(byte[] pre, int preStart, DocDiff d, String path) {
        int at = out.startDocument();
        boolean[] seen = new boolean[d.n];
        BsonCursor c = new BsonCursor(pre, preStart);
        while (c.next()) {
            int i = d.find(pre, c.nameStart, c.nameLength);
            if (i < 0) {
                out.copy(pre, c.elementStart, c.elementLength());
                continue;
            }
            seen[i] = true;
            switch (d.kind[i]) {
                case DEL, INS -> {
                    // deleted, or re-inserted at the end below
                }
                case UPD -> out.copy(d.buf, d.elementStart[i], d.elementEnd[i] - d.elementStart[i]);
                case BIN -> applyBinary(c, d, i, path);
                case SUB_DOC -> {
                    if (c.type == Bson.DOCUMENT) {
                        out.header(Bson.DOCUMENT, pre, c.nameStart, c.nameLength);
                        applyObject(pre, c.valueStart, parseDocDiff(d.buf, d.value[i]), path + c.name() + ".");
                    } else {
                        validate(d.buf, d.value[i], false);
                        mismatch(path + c.name(), "sub-diff expects an object");
                        out.header(Bson.NULL, pre, c.nameStart, c.nameLength);
                    }
                }
                case SUB_ARR -> {
                    if (c.type == Bson.ARRAY) {
                        out.header(Bson.ARRAY, pre, c.nameStart, c.nameLength);
                        applyArray(pre, c.valueStart, parseArrayDiff(d.buf, d.value[i]), path + c.name() + ".");
                    } else {
                        validate(d.buf, d.value[i], true);
                        mismatch(path + c.name(), "array diff expects an array");
                        out.header(Bson.NULL, pre, c.nameStart, c.nameLength);
                    }
                }
                default -> throw new IllegalStateException();
            }
        }
        for (int i = 0; i < d.n; i++) {
            byte k = d.kind[i];
            if ((k == UPD && !seen[i]) || k == INS) {
                out.copy(d.buf, d.elementStart[i], d.elementEnd[i] - d.elementStart[i]);
                continue;
            }
            if (!seen[i] && (k == SUB_DOC || k == SUB_ARR)) {
                validate(d.buf, d.value[i], k == SUB_ARR);
            }
            if (strict && !seen[i] && k != UPD) {
                throw EntryFailure.divergence("diff modifies field " + path + d.name(i) + " which the document does not have");
            }
        }
        out.endDocument(at);
    }

    private void applyArray(byte[] pre, int preStart, ArrayDiff a, String path) {
        int at = out.startDocument();
        BsonCursor c = new BsonCursor(pre, preStart);
        int idx = 0;
        int m = 0;
        int resize = a.resize;
        while ((resize < 0 || idx < resize) && c.next()) {
            if (m < a.n && a.index[m] == idx) {
                applyArrayModification(pre, c, true, a, m, idx, path);
                m++;
            } else {
                out.header(c.type, Bson.indexName(idx));
                out.copy(pre, c.valueStart, c.valueLength);
            }
            idx++;
        }
        while ((resize >= 0 && idx < resize) || m < a.n) {
            if (m < a.n && a.index[m] == idx) {
                applyArrayModification(pre, c, false, a, m, idx, path);
                m++;
            } else {
                out.header(Bson.NULL, Bson.indexName(idx));
            }
            idx++;
        }
        out.endDocument(at);
    }

    private void applyArrayModification(byte[] pre, BsonCursor c, boolean present, ArrayDiff a, int m, int idx, String path) {
        byte[] name = Bson.indexName(idx);
        byte[] diffBuf = a.buf;
        switch (a.kind[m]) {
            case UPD -> {
                out.header(a.valueType[m], name);
                out.copy(diffBuf, a.value[m], a.valueLength[m]);
            }
            case SUB_DOC -> {
                if (present && c.type == Bson.DOCUMENT) {
                    out.header(Bson.DOCUMENT, name);
                    applyObject(pre, c.valueStart, parseDocDiff(diffBuf, a.value[m]), path + idx + ".");
                } else {
                    validate(diffBuf, a.value[m], false);
                    mismatch(path + idx, present ? "sub-diff expects an object" : "sub-diff past the end of the array");
                    out.header(Bson.NULL, name);
                }
            }
            case SUB_ARR -> {
                if (present && c.type == Bson.ARRAY) {
                    out.header(Bson.ARRAY, name);
                    applyArray(pre, c.valueStart, parseArrayDiff(diffBuf, a.value[m]), path + idx + ".");
                } else {
                    validate(diffBuf, a.value[m], true);
                    mismatch(path + idx, present ? "array diff expects an array" : "array diff past the end of the array");
                    out.header(Bson.NULL, name);
                }
            }
            default -> throw new IllegalStateException();
        }
    }

    private void applyBinary(BsonCursor c, DocDiff d, int i, String path) {
        BsonCursor f = new BsonCursor(d.buf, d.value[i]);
        long offset = -1;
        int dataStart = -1;
        int dataLength = 0;
        while (f.next()) {
            if (f.nameIs("o")) {
                offset = f.integralValue();
            } else if (f.nameIs("d") && f.type == Bson.BINARY) {
                dataLength = f.intValue();
                dataStart = f.valueStart + 5;
            } else {
                throw EntryFailure.unsupported("malformed diff: unexpected field " + f.name() + " in binary diff");
            }
        }
        if (offset < 0 || dataStart < 0) {
            throw EntryFailure.unsupported("malformed diff: binary diff needs o and d");
        }
        if (c.type != Bson.BINARY || offset > c.intValue()) {
            mismatch(path + c.name(), c.type != Bson.BINARY ? "binary diff expects BinData" : "binary diff offset past the end");
            out.header(Bson.NULL, c.buf, c.nameStart, c.nameLength);
            return;
        }
        out.header(Bson.BINARY, c.buf, c.nameStart, c.nameLength);
        out.writeInt((int) offset + dataLength);
        out.writeByte(c.buf[c.valueStart + 4]);
        out.copy(c.buf, c.valueStart + 5, (int) offset);
        out.copy(d.buf, dataStart, dataLength);
    }

    /**
     * Parses a sub-diff the document gives no occasion to apply, so a malformed diff is reported as
     * such whatever the document looks like.
     */
    private static void validate(byte[] buf, int start, boolean array) {
        if (array) {
            ArrayDiff a = parseArrayDiff(buf, start);
            for (int m = 0; m < a.n; m++) {
                if (a.kind[m] == SUB_DOC || a.kind[m] == SUB_ARR) {
                    validate(buf, a.value[m], a.kind[m] == SUB_ARR);
                }
            }
        } else {
            DocDiff d = parseDocDiff(buf, start);
            for (int i = 0; i < d.n; i++) {
                if (d.kind[i] == SUB_DOC || d.kind[i] == SUB_ARR) {
                    validate(buf, d.value[i], d.kind[i] == SUB_ARR);
                }
            }
        }
    }

    private void mismatch(String field, String what) {
        if (strict) {
            throw EntryFailure.divergence("document does not match the diff at " + field + ": " + what);
        }
    }
}
