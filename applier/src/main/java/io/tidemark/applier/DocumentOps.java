package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.BsonOut;
import java.util.Arrays;

/**
 * Applies insert, update and delete operations to the staged batch. The target collection is
 * resolved by the operation's {@code ui} when present (MongoDB resolves by UUID, which survives
 * renames) and by {@code ns} otherwise.
 */
final class DocumentOps {
    private final StagedBatch batch;
    private final boolean strict;
    private final DeltaApplier delta;
    private final ModifierApplier modifier;
    private final ViewDefinitions views;
    private final BsonCursor cursor = new BsonCursor();
    private final DocumentUpdates updates;

    DocumentOps(StagedBatch batch, boolean strict, DeltaApplier delta, ModifierApplier modifier, ViewDefinitions views) {
        this.batch = batch;
        this.strict = strict;
        this.delta = delta;
        this.modifier = modifier;
        this.views = views;
        this.updates = new DocumentUpdates(delta, modifier, strict);
    }

    void apply(OplogEntry op) {
        if (op.o < 0) {
            throw EntryFailure.unsupported("operation without o");
        }
        // Internal namespaces never enter the catalog, so a collection found by UUID is kept; only
        // an unknown one needs its ns examined.
        NamespaceEntry target = op.ui != null ? batch.byUuid(op.ui) : null;
        if (target == null) {
            String ns = op.ns();
            int dot = ns == null ? -1 : ns.indexOf('.');
            if (dot <= 0) {
                throw EntryFailure.unsupported("bad ns " + ns);
            }
            if (InternalNamespaces.isSkipped(ns.substring(0, dot), ns.substring(dot + 1))) {
                return;
            }
            target = resolveMissing(op);
            if (target == null) {
                return;
            }
        }
        if (target.type() == NamespaceType.VIEW) {
            throw EntryFailure.unsupported("write to view " + target.ns());
        }
        switch (op.op) {
            case "i" -> insert(op, target);
            case "u" -> update(op, target);
            case "d" -> delete(op, target);
            default -> throw EntryFailure.unsupported("unknown op " + op.op);
        }
    }

    /**
     * The collection of an operation whose ui is absent or unknown: by ns when there is no ui;
     * null when lenient mode skips it.
     */
    private NamespaceEntry resolveMissing(OplogEntry op) {
        if (op.ui != null) {
            if (strict) {
                throw EntryFailure.divergence("no collection with UUID " + op.ui + " (" + op.ns() + ") in the head");
            }
            // Initial sync ignores operations on collections it does not have: they were dropped
            // later, and their drop is further along in the oplog.
            return null;
        }
        NamespaceEntry byName = batch.byName(op.ns());
        if (byName == null && strict) {
            throw EntryFailure.divergence("namespace " + op.ns() + " is not in the head");
        }
        return byName;
    }

    private byte[] idKey(NamespaceEntry target, byte[] buf, int doc, String where) {
        if (!cursor.find(buf, doc, "_id")) {
            throw EntryFailure.unsupported(where + " has no _id");
        }
        return DocumentKeys.key(target.id(), cursor.type, buf, cursor.valueStart, cursor.valueLength);
    }

    private void insert(OplogEntry op, NamespaceEntry target) {
        byte[] key = idKey(target, op.buf, op.o, "insert document");
        int len = Bson.readInt(op.buf, op.o);
        byte[] doc = Arrays.copyOfRange(op.buf, op.o, op.o + len);
        byte[] existing = batch.get(target.id(), key);
        if (existing == null) {
            batch.put(target.id(), key, doc, true);
        } else if (!Arrays.equals(existing, doc)) {
            if (strict) {
                throw EntryFailure.divergence("insert of an _id that exists with different content in " + target.ns());
            }
            // Initial sync applies an insert of an existing _id as a replacement.
            batch.put(target.id(), key, doc, false);
        }
        views.afterWrite(target, key);
    }

    private void update(OplogEntry op, NamespaceEntry target) {
        if (op.o2 < 0) {
            throw EntryFailure.unsupported("update without o2");
        }
        byte[] key = idKey(target, op.buf, op.o2, "update o2");
        byte[] existing = batch.get(target.id(), key);
        if (existing == null) {
            if (strict) {
                throw EntryFailure.divergence("update of a document missing from " + target.ns());
            }
            return;
        }
        byte[] updated = updatedDocument(op, existing);
        if (!Arrays.equals(existing, updated)) {
            batch.put(target.id(), key, updated, false);
            views.afterWrite(target, key);
        }
    }

    /** Reads {@code o}: a delta ($v:2), a $set/$unset update ($v:1), or a full replacement. */
    private byte[] updatedDocument(OplogEntry op, byte[] existing) {
        return updates.apply(existing, op.buf, op.o);
    }

    private void delete(OplogEntry op, NamespaceEntry target) {
        byte[] key = idKey(target, op.buf, op.o, "delete o");
        if (batch.get(target.id(), key) == null) {
            if (strict) {
                throw EntryFailure.divergence("delete of a document missing from " + target.ns());
            }
            return;
        }
        batch.delete(target.id(), key);
        views.afterWrite(target, key);
    }
}
