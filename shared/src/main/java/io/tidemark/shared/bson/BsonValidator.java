package io.tidemark.shared.bson;

/**
 * Structural validation of one BSON document, written against the BSON spec rather than a
 * decoder so that a hostile body cannot make us allocate: every length is checked against its
 * enclosing document before it is trusted, and nothing is copied.
 */
final class BsonValidator {

    private static final int MAX_DEPTH = 200;

    private BsonValidator() {
    }

    static void validateDocument(byte[] buf, int offset, int length) {
        int end = document(buf, offset, offset + length, 0);
        if (end != offset + length) {
            throw fail(offset, "document length does not match its content");
        }
    }

    /** Validates the document starting at {@code pos}, which must end by {@code limit}; returns its end. */
    private static int document(byte[] buf, int pos, int limit, int depth) {
        if (depth > MAX_DEPTH) {
            throw fail(pos, "nesting deeper than " + MAX_DEPTH);
        }
        if (limit - pos < 5) {
            throw fail(pos, "truncated document");
        }
        int len = Bson.readInt(buf, pos);
        if (len < 5 || len > limit - pos) {
            throw fail(pos, "document length " + len + " exceeds its container");
        }
        int end = pos + len;
        int p = pos + 4;
        while (true) {
            if (p >= end) {
                throw fail(p, "document is missing its terminating zero");
            }
            byte type = buf[p++];
            if (type == 0) {
                if (p != end) {
                    throw fail(p, "bytes after the document terminator");
                }
                return end;
            }
            p = cstring(buf, p, end - 1);
            p = value(buf, type, p, end - 1, depth);
        }
    }

    private static int value(byte[] buf, byte type, int p, int limit, int depth) {
        switch (type) {
            case Bson.DOUBLE: case Bson.DATE: case Bson.TIMESTAMP: case Bson.INT64:
                return need(p, 8, limit);
            case Bson.INT32:
                return need(p, 4, limit);
            case Bson.DECIMAL128:
                return need(p, 16, limit);
            case Bson.BOOLEAN: {
                need(p, 1, limit);
                byte b = buf[p];
                if (b != 0 && b != 1) {
                    throw fail(p, "boolean must be 0 or 1");
                }
                return p + 1;
            }
            case Bson.UNDEFINED: case Bson.NULL: case Bson.MIN_KEY: case Bson.MAX_KEY:
                return p;
            case Bson.OBJECT_ID:
                return need(p, 12, limit);
            case Bson.STRING: case Bson.JAVASCRIPT: case Bson.SYMBOL:
                return string(buf, p, limit);
            case Bson.DOCUMENT: case Bson.ARRAY:
                return document(buf, p, limit, depth + 1);
            case Bson.BINARY: {
                need(p, 5, limit);
                int n = Bson.readInt(buf, p);
                if (n < 0) {
                    throw fail(p, "negative binary length");
                }
                return need(p + 5, n, limit);
            }
            case Bson.REGEX:
                return cstring(buf, cstring(buf, p, limit), limit);
            case Bson.DB_POINTER:
                return need(string(buf, p, limit), 12, limit);
            case Bson.JAVASCRIPT_WITH_SCOPE: {
                need(p, 4, limit);
                int total = Bson.readInt(buf, p);
                if (total < 14 || total > limit - p) {
                    throw fail(p, "code-with-scope length " + total + " is invalid");
                }
                int afterCode = string(buf, p + 4, p + total);
                int afterScope = document(buf, afterCode, p + total, depth + 1);
                if (afterScope != p + total) {
                    throw fail(p, "code-with-scope length does not match its content");
                }
                return afterScope;
            }
            default:
                throw fail(p - 1, String.format("unknown BSON type 0x%02x", type));
        }
    }

    private static int string(byte[] buf, int p, int limit) {
        need(p, 4, limit);
        int n = Bson.readInt(buf, p);
        if (n < 1 || n > limit - p - 4) {
            throw fail(p, "string length " + n + " is invalid");
        }
        if (buf[p + 4 + n - 1] != 0) {
            throw fail(p, "string is not zero-terminated");
        }
        return p + 4 + n;
    }

    private static int cstring(byte[] buf, int p, int limit) {
        for (int i = p; i < limit; i++) {
            if (buf[i] == 0) {
                return i + 1;
            }
        }
        throw fail(p, "unterminated field name or cstring");
    }

    private static int need(int p, int n, int limit) {
        if (n > limit - p) {
            throw fail(p, "value runs past the end of its document");
        }
        return p + n;
    }

    private static MalformedBsonException fail(int at, String what) {
        return new MalformedBsonException("malformed BSON at byte " + at + ": " + what);
    }
}
