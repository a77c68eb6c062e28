package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;

/**
 * Applies the entries of one staged batch, dispatching each operation (top-level or nested in an
 * applyOps) by its {@code op}, and remembering the operation in progress for error reports.
 */
final class EntryApplier {
    private final DocumentOps documents;
    private final CommandApplier commands;
    /** The innermost operation being applied: what an error report names. */
    OplogEntry current;

    EntryApplier(StagedBatch batch, boolean strict, DeltaApplier delta, ModifierApplier modifier) {
        ViewDefinitions views = new ViewDefinitions(batch, strict);
        this.documents = new DocumentOps(batch, strict, delta, modifier, views);
        this.commands = new CommandApplier(batch, strict, views, this);
    }

    void applyEntry(OplogEntry e) {
        current = e;
        apply(e, true);
    }

    private void apply(OplogEntry op, boolean topLevel) {
        if (op.op == null) {
            throw EntryFailure.unsupported("operation without op");
        }
        switch (op.op) {
            // No-ops (periodic keep-alives, retryable findAndModify images of 4.4, migration and
            // resharding markers) only move the position, which the caller does.
            case "n" -> {
            }
            case "i", "u", "d" -> documents.apply(op);
            case "c" -> commands.apply(op, topLevel);
            default -> throw EntryFailure.unsupported("unknown op " + op.op);
        }
    }

    /** Applies every operation of {@code holder.o.applyOps}, in order. */
    void applyOpsArray(OplogEntry holder) {
        BsonCursor c = new BsonCursor();
        if (!c.find(holder.buf, holder.o, "applyOps") || c.type != Bson.ARRAY) {
            throw EntryFailure.unsupported("applyOps is not an array");
        }
        BsonCursor a = new BsonCursor(holder.buf, c.valueStart);
        while (a.next()) {
            if (a.type != Bson.DOCUMENT) {
                throw EntryFailure.unsupported("applyOps element is not an object");
            }
            OplogEntry inner = OplogEntry.parse(holder.buf, a.valueStart);
            OplogEntry outer = current;
            current = inner;
            apply(inner, false);
            current = outer;
        }
    }
}
