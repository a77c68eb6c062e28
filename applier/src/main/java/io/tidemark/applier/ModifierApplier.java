package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.BsonOut;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Applies a {@code $v: 1} update ({@code {$v: 1, $set: {...}, $unset: {...}}} with dotted paths),
 * the form MongoDB 4.4 logs, to a document's raw bytes with MongoDB's update semantics:
 *
 * <ul>
 *   <li>existing fields are replaced or removed where they stand; new fields are appended, in the
 *       order MongoDB's update tree visits them (field names sorted, numeric names numerically);</li>
 *   <li>missing intermediate objects are created (numeric components create object fields, not
 *       arrays); numeric components into an existing array index it, padding with nulls past the
 *       end;</li>
 *   <li>{@code $unset} of an array element sets it to null; of a missing path, does nothing.</li>
 * </ul>
 *
 * <p>A path through a value that is neither object nor array is not viable: MongoDB's oplog
 * application ignores that one modification; lenient mode does the same, strict mode reports
 * divergence.
 */
final class ModifierApplier {
    private static final byte INTERNAL = 0;
    private static final byte SET = 1;
    private static final byte UNSET = 2;

    /** MongoDB's pathsupport::cmpPathsAndArrayIndexes: numbers by value, everything else as strings. */
    static final Comparator<String> PATH_ORDER = (a, b) -> {
        boolean an = !a.isEmpty() && isDigit(a.charAt(0)) && !(a.charAt(0) == '0' && a.length() > 1);
        boolean bn = !b.isEmpty() && isDigit(b.charAt(0)) && !(b.charAt(0) == '0' && b.length() > 1);
        if (!an || !bn) {
            return a.compareTo(b);
        }
        if (a.length() != b.length()) {
            return Integer.compare(a.length(), b.length());
        }
        return a.compareTo(b);
    };

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static final class Node {
        final byte kind;
        final TreeMap<String, Node> children;
        byte[] buf;
        byte valueType;
        int valueStart;
        int valueLength;

        Node(byte kind) {
            this.kind = kind;
            this.children = kind == INTERNAL ? new TreeMap<>(PATH_ORDER) : null;
        }

        boolean createsSomething() {
            if (kind == SET) {
                return true;
            }
            if (kind == UNSET) {
                return false;
            }
            for (Node n : children.values()) {
                if (n.createsSomething()) {
                    return true;
                }
            }
            return false;
        }
    }

    private final BsonOut out = new BsonOut(4096);
    private boolean strict;

    byte[] apply(byte[] pre, int preStart, byte[] update, int updateStart, boolean strictMode) {
        this.strict = strictMode;
        Node root = parse(update, updateStart);
        out.reset();
        applyObject(pre, preStart, root, "");
        return out.toByteArray(0);
    }

    private static Node parse(byte[] buf, int start) {
        Node root = new Node(INTERNAL);
        BsonCursor c = new BsonCursor(buf, start);
        while (c.next()) {
            if (c.nameIs("$v")) {
                continue;
            }
            byte kind;
            if (c.nameIs("$set")) {
                kind = SET;
            } else if (c.nameIs("$unset")) {
                kind = UNSET;
            } else {
                throw EntryFailure.unsupported("$v:1 update with unsupported modifier " + c.name());
            }
            if (c.type != Bson.DOCUMENT) {
                throw EntryFailure.unsupported(c.name() + " is not an object");
            }
            BsonCursor f = new BsonCursor(buf, c.valueStart);
            while (f.next()) {
                Node leaf = new Node(kind);
                leaf.buf = buf;
                leaf.valueType = f.type;
                leaf.valueStart = f.valueStart;
                leaf.valueLength = f.valueLength;
                insert(root, f.name(), leaf);
            }
        }
        return root;
    }

    private static void insert(Node root, String path, Node leaf) {
        String[] parts = path.split("\\.", -1);
        Node n = root;
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (p.isEmpty()) {
                throw EntryFailure.unsupported("malformed update path '" + path + "'");
            }
            Node child = n.children.get(p);
            if (i == parts.length - 1) {
                if (child != null) {
                    throw EntryFailure.unsupported("conflicting update paths at '" + path + "'");
                }
                n.children.put(p, leaf);
            } else {
                if (child == null) {
                    child = new Node(INTERNAL);
                    n.children.put(p, child);
                } else if (child.kind != INTERNAL) {
                    throw EntryFailure.unsupported("conflicting update paths at '" + path + "'");
                }
                n = child;
            }
        }
    }

    private void applyObject(byte[] pre, int preStart, Node node, String path) {
        int at = out.startDocument();
        Set<String> handled = new HashSet<>();
        BsonCursor c = new BsonCursor(pre, preStart);
        while (c.next()) {
            String name = c.name();
            Node ch = node.children.get(name);
            if (ch == null) {
                out.copy(pre, c.elementStart, c.elementLength());
                continue;
            }
            handled.add(name);
            applyExisting(pre, c, ch, Bson.utf8(name), path + name);
        }
        for (Map.Entry<String, Node> e : node.children.entrySet()) {
            if (!handled.contains(e.getKey())) {
                appendNew(Bson.utf8(e.getKey()), e.getValue());
            }
        }
        out.endDocument(at);
    }

    /** Applies {@code ch} to the existing element under cursor {@code c}, writing it as {@code name}. */
    private void applyExisting(byte[] pre, BsonCursor c, Node ch, byte[] name, String path) {
        switch (ch.kind) {
            case SET -> {
                out.header(ch.valueType, name);
                out.copy(ch.buf, ch.valueStart, ch.valueLength);
            }
            case UNSET -> {
                // removed
            }
            default -> {
                if (c.type == Bson.DOCUMENT) {
                    out.header(Bson.DOCUMENT, name);
                    applyObject(pre, c.valueStart, ch, path + ".");
                } else if (c.type == Bson.ARRAY) {
                    out.header(Bson.ARRAY, name);
                    applyArray(pre, c.valueStart, ch, path + ".");
                } else {
                    notViable(path);
                    out.header(c.type, name);
                    out.copy(pre, c.valueStart, c.valueLength);
                }
            }
        }
    }

    private void appendNew(byte[] name, Node ch) {
        if (ch.kind == SET) {
            out.header(ch.valueType, name);
            out.copy(ch.buf, ch.valueStart, ch.valueLength);
        } else if (ch.kind == INTERNAL && ch.createsSomething()) {
            out.header(Bson.DOCUMENT, name);
            int at = out.startDocument();
            for (Map.Entry<String, Node> e : ch.children.entrySet()) {
                appendNew(Bson.utf8(e.getKey()), e.getValue());
            }
            out.endDocument(at);
        }
    }

    private void applyArray(byte[] pre, int preStart, Node node, String path) {
        // Children of an array node must be canonical indexes; others cannot be created in an array.
        TreeMap<Integer, Node> byIndex = new TreeMap<>();
        for (Map.Entry<String, Node> e : node.children.entrySet()) {
            String k = e.getKey();
            byte[] kb = Bson.utf8(k);
            int idx = DeltaApplier.parseIndex(kb, 0, kb.length);
            if (idx < 0 || (k.length() > 1 && k.charAt(0) == '0')) {
                notViable(path + k);
                continue;
            }
            byIndex.put(idx, e.getValue());
        }
        int at = out.startDocument();
        BsonCursor c = new BsonCursor(pre, preStart);
        int idx = 0;
        while (c.next()) {
            Node ch = byIndex.remove(idx);
            byte[] name = Bson.indexName(idx);
            if (ch == null) {
                out.header(c.type, name);
                out.copy(pre, c.valueStart, c.valueLength);
            } else if (ch.kind == UNSET) {
                out.header(Bson.NULL, name);
            } else {
                applyExisting(pre, c, ch, name, path + idx);
            }
            idx++;
        }
        for (Map.Entry<Integer, Node> e : byIndex.entrySet()) {
            Node ch = e.getValue();
            if (!ch.createsSomething()) {
                continue;
            }
            for (; idx < e.getKey(); idx++) {
                out.header(Bson.NULL, Bson.indexName(idx));
            }
            appendNew(Bson.indexName(idx), ch);
            idx++;
        }
        out.endDocument(at);
    }

    private void notViable(String path) {
        if (strict) {
            throw EntryFailure.divergence("update path " + path + " is not viable in the document");
        }
    }
}
