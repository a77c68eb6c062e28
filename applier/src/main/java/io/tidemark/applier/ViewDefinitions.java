package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.BsonOut;
import java.util.Map;

import org.bson.RawBsonDocument;

/**
 * Keeps the catalog's views in step with {@code <db>.system.views}. MongoDB 4.4–8.0 does not log a
 * command when a view is created, modified or dropped: it logs an insert, update or delete of the
 * view's definition document ({@code {_id: "db.view", viewOn, pipeline, collation?}}) in
 * system.views. The head keeps system.views as an ordinary collection (so its bytes are backed up)
 * and mirrors each definition into a catalog entry of type view.
 */
final class ViewDefinitions {
    static final String SYSTEM_VIEWS = "system.views";

    private final StagedBatch batch;
    private final boolean strict;

    ViewDefinitions(StagedBatch batch, boolean strict) {
        this.batch = batch;
        this.strict = strict;
    }

    void afterWrite(NamespaceEntry target, byte[] key) {
        if (!target.collection().equals(SYSTEM_VIEWS)) {
            return;
        }
        org.bson.BsonValue id = DocumentKeys.id(key);
        if (!id.isString()) {
            throw EntryFailure.unsupported("system.views document whose _id is not a string");
        }
        String viewNs = id.asString().getValue();
        int dot = viewNs.indexOf('.');
        if (dot <= 0 || !viewNs.substring(0, dot).equals(target.db())) {
            throw EntryFailure.unsupported("view " + viewNs + " defined in " + target.ns());
        }
        String name = viewNs.substring(dot + 1);
        NamespaceEntry existing = batch.byName(viewNs);
        byte[] doc = batch.get(target.id(), key);
        if (doc == null) {
            if (existing != null && existing.type() == NamespaceType.VIEW) {
                batch.dropNamespace(existing);
            }
            return;
        }
        RawBsonDocument options = withoutFields(doc, "_id");
        if (existing == null) {
            batch.putNamespace(new NamespaceEntry(batch.allocateNsId(), target.db(), name, null, NamespaceType.VIEW,
                    options, java.util.List.of(), Map.of()));
        } else if (existing.type() == NamespaceType.VIEW) {
            batch.putNamespace(existing.withOptions(options));
        } else if (strict) {
            throw EntryFailure.divergence("view " + viewNs + " conflicts with an existing collection");
        }
    }

    /** Removes every view of a database (its system.views was dropped). */
    void dropAll(String db) {
        for (NamespaceEntry n : batch.inDatabase(db)) {
            if (n.type() == NamespaceType.VIEW) {
                batch.dropNamespace(n);
            }
        }
    }

    /** Copy of a raw document without the named top-level fields, other fields in order. */
    static RawBsonDocument withoutFields(byte[] buf, String... names) {
        return withoutFields(buf, 0, names);
    }

    static RawBsonDocument withoutFields(byte[] buf, int start, String... names) {
        BsonOut out = new BsonOut(Bson.readInt(buf, start));
        int at = out.startDocument();
        BsonCursor c = new BsonCursor(buf, start);
        outer:
        while (c.next()) {
            for (String n : names) {
                if (c.nameIs(n)) {
                    continue outer;
                }
            }
            out.copy(buf, c.elementStart, c.elementLength());
        }
        out.endDocument(at);
        return new RawBsonDocument(out.toByteArray(0));
    }
}
