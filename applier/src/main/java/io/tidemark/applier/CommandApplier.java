package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

/**
 * Applies {@code op: "c"} entries: collection and index DDL, applyOps and transactions. Commands
 * are logged on {@code <db>.$cmd}; the collection they name is {@code <db>.<first field's value>},
 * and the entry's {@code ui} (when present) identifies it by UUID.
 */
final class CommandApplier {
    private final StagedBatch batch;
    private final boolean strict;
    private final ViewDefinitions views;
    private final EntryApplier entries;

    CommandApplier(StagedBatch batch, boolean strict, ViewDefinitions views, EntryApplier entries) {
        this.batch = batch;
        this.strict = strict;
        this.views = views;
        this.entries = entries;
    }

    void apply(OplogEntry op, boolean topLevel) {
        if (op.ns() == null || !op.ns().endsWith(".$cmd") || op.ns().length() <= 5) {
            throw EntryFailure.unsupported("command on " + op.ns() + " (expected <db>.$cmd)");
        }
        if (op.o < 0) {
            throw EntryFailure.unsupported("command without o");
        }
        String db = op.ns().substring(0, op.ns().length() - 5);
        String name = op.commandName();
        if (name == null) {
            throw EntryFailure.unsupported("empty command");
        }
        switch (name) {
            case "create" -> create(op, db);
            case "drop" -> drop(op, db);
            case "renameCollection" -> rename(op);
            case "dropDatabase" -> dropDatabase(db);
            case "createIndexes" -> createIndexes(op, db);
            case "startIndexBuild" -> startIndexBuild(op, db);
            case "commitIndexBuild" -> commitIndexBuild(op, db);
            case "abortIndexBuild" -> abortIndexBuild(op, db);
            case "dropIndexes", "deleteIndexes" -> dropIndex(op, db);
            case "collMod" -> collMod(op, db);
            case "convertToCapped" -> convertToCapped(op, db);
            case "emptycapped" -> emptyCapped(op, db);
            case "applyOps" -> applyOps(op, topLevel);
            case "commitTransaction" -> commitTransaction(op, topLevel);
            case "abortTransaction" -> abortTransaction(op, topLevel);
            // dbCheck entries record a consistency check; they change no data.
            case "dbCheck" -> {
            }
            default -> throw EntryFailure.unsupported("unknown command " + name);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static String stringArg(OplogEntry op, String field) {
        BsonCursor c = new BsonCursor();
        if (!c.find(op.buf, op.o, field) || c.type != Bson.STRING) {
            throw EntryFailure.unsupported(field + " must be a string");
        }
        return c.stringValue();
    }

    /** The collection a command names, resolved by ui first; null when lenient mode skips it. */
    private NamespaceEntry target(OplogEntry op, String ns) {
        NamespaceEntry n = op.ui != null ? batch.byUuid(op.ui) : batch.byName(ns);
        if (n == null && strict) {
            throw EntryFailure.divergence("command targets " + ns + (op.ui != null ? " (UUID " + op.ui + ")" : "")
                    + " which is not in the head");
        }
        return n;
    }

    private static NamespaceType typeOf(RawBsonDocument options) {
        if (options.containsKey("viewOn")) {
            return NamespaceType.VIEW;
        }
        if (options.containsKey("timeseries")) {
            return NamespaceType.TIMESERIES;
        }
        return NamespaceType.COLLECTION;
    }

    private void drop(NamespaceEntry n) {
        batch.dropNamespace(n);
        if (n.collection().equals(ViewDefinitions.SYSTEM_VIEWS)) {
            views.dropAll(n.db());
        }
    }

    // ---------------------------------------------------------------- collections

    private void create(OplogEntry op, String db) {
        String coll = stringArg(op, "create");
        if (InternalNamespaces.isSkipped(db, coll)) {
            return;
        }
        String ns = db + "." + coll;
        RawBsonDocument options = ViewDefinitions.withoutFields(op.buf, op.o, "create", "idIndex");
        List<RawBsonDocument> indexes = new ArrayList<>();
        BsonCursor c = new BsonCursor();
        if (c.find(op.buf, op.o, "idIndex")) {
            if (c.type != Bson.DOCUMENT) {
                throw EntryFailure.unsupported("idIndex is not an object");
            }
            indexes.add(CatalogDocs.sub(op.buf, c.valueStart));
        }
        NamespaceType type = typeOf(options);
        if (type != NamespaceType.VIEW && op.ui == null) {
            throw EntryFailure.unsupported("create of a collection without ui");
        }
        NamespaceEntry byName = batch.byName(ns);
        NamespaceEntry byUuid = op.ui == null ? null : batch.byUuid(op.ui);
        if (byName != null || byUuid != null) {
            if (strict) {
                throw EntryFailure.divergence("create of " + ns + " which already exists in the head");
            }
            if (byName != null && byName == byUuid) {
                return;
            }
            if (byName != null) {
                drop(byName);
            }
            if (byUuid != null) {
                // The collection was cloned under a later name; initial sync moves it back here and
                // the rename further along in the oplog moves it on again, data intact.
                batch.putNamespace(byUuid.renamed(db, coll));
                return;
            }
        }
        batch.putNamespace(new NamespaceEntry(batch.allocateNsId(), db, coll, op.ui, type, options, indexes, Map.of()));
    }

    private void drop(OplogEntry op, String db) {
        String coll = stringArg(op, "drop");
        if (InternalNamespaces.isSkipped(db, coll)) {
            return;
        }
        NamespaceEntry n = target(op, db + "." + coll);
        if (n != null) {
            drop(n);
        }
    }

    private void rename(OplogEntry op) {
        String from = stringArg(op, "renameCollection");
        String to = stringArg(op, "to");
        int dot = to.indexOf('.');
        if (dot <= 0 || from.indexOf('.') <= 0) {
            throw EntryFailure.unsupported("bad rename namespaces");
        }
        boolean fromSkipped = InternalNamespaces.isSkipped(from);
        boolean toSkipped = InternalNamespaces.isSkipped(to);
        if (fromSkipped && toSkipped) {
            return;
        }
        if (from.endsWith("." + ViewDefinitions.SYSTEM_VIEWS) || to.endsWith("." + ViewDefinitions.SYSTEM_VIEWS)) {
            throw EntryFailure.unsupported("rename of system.views");
        }
        if (fromSkipped) {
            throw EntryFailure.unsupported("rename from internal namespace " + from + " into " + to);
        }
        NamespaceEntry source = target(op, from);
        if (source == null) {
            return;
        }
        if (toSkipped) {
            batch.dropNamespace(source);
            return;
        }
        BsonCursor c = new BsonCursor();
        boolean stayTemp = c.find(op.buf, op.o, "stayTemp") && c.truthy();
        if (c.find(op.buf, op.o, "dropTarget")) {
            if (c.type == Bson.BINARY) {
                NamespaceEntry doomed = batch.byUuid(OplogEntry.uuid(c));
                if (doomed != null && doomed.id() != source.id()) {
                    batch.dropNamespace(doomed);
                }
            } else if (c.truthy()) {
                NamespaceEntry doomed = batch.byName(to);
                if (doomed != null && doomed.id() != source.id()) {
                    batch.dropNamespace(doomed);
                }
            }
        }
        NamespaceEntry occupant = batch.byName(to);
        if (occupant != null && occupant.id() != source.id()) {
            if (strict) {
                throw EntryFailure.divergence("rename target " + to + " exists in the head");
            }
            batch.dropNamespace(occupant);
        }
        NamespaceEntry renamed = source.renamed(to.substring(0, dot), to.substring(dot + 1));
        if (!stayTemp && renamed.options().containsKey("temp")) {
            // renameCollection without stayTemp turns a temporary collection into a permanent one.
            renamed = renamed.withOptions(ViewDefinitions.withoutFields(bytesOf(renamed.options()), "temp"));
        }
        batch.putNamespace(renamed);
    }

    private void dropDatabase(String db) {
        if (db.equals("local")) {
            return;
        }
        for (NamespaceEntry n : batch.inDatabase(db)) {
            if (batch.byName(n.ns()) != null) {
                batch.dropNamespace(n);
            }
        }
    }

    private void convertToCapped(OplogEntry op, String db) {
        NamespaceEntry n = commandTarget(op, db, "convertToCapped");
        if (n == null) {
            return;
        }
        BsonDocument options = CatalogDocs.mutable(n.options());
        BsonValue size = CatalogDocs.mutable(CatalogDocs.sub(op.buf, op.o)).get("size");
        if (size == null || !size.isNumber()) {
            throw EntryFailure.unsupported("convertToCapped without a numeric size");
        }
        options.put("capped", BsonBoolean.TRUE);
        options.put("size", size);
        batch.putNamespace(n.withOptions(CatalogDocs.raw(options)));
    }

    private void emptyCapped(OplogEntry op, String db) {
        String coll = stringArg(op, "emptycapped");
        if (InternalNamespaces.isSkipped(db, coll)) {
            return;
        }
        NamespaceEntry n = target(op, db + "." + coll);
        if (n != null) {
            batch.clear(n.id());
        }
    }

    // ---------------------------------------------------------------- collMod

    private void collMod(OplogEntry op, String db) {
        NamespaceEntry n = commandTarget(op, db, "collMod");
        if (n == null) {
            return;
        }
        BsonDocument cmd = CatalogDocs.mutable(CatalogDocs.sub(op.buf, op.o));
        BsonDocument options = CatalogDocs.mutable(n.options());
        List<RawBsonDocument> indexes = n.indexes();
        for (Map.Entry<String, BsonValue> f : cmd.entrySet()) {
            String k = f.getKey();
            BsonValue v = f.getValue();
            switch (k) {
                case "collMod" -> {
                }
                case "index" -> indexes = modifyIndex(n, indexes, v.asDocument());
                case "validator" -> putOrRemove(options, k, v, v.isDocument() && v.asDocument().isEmpty());
                case "validationLevel", "validationAction", "viewOn", "pipeline", "timeseriesBucketsMayHaveMixedSchemaData" ->
                        options.put(k, v);
                case "expireAfterSeconds" -> putOrRemove(options, k, v, v.isString() && v.asString().getValue().equals("off"));
                case "changeStreamPreAndPostImages" -> putOrRemove(options, k, v,
                        !(v.isDocument() && v.asDocument().getBoolean("enabled", BsonBoolean.FALSE).getValue()));
                case "recordPreImages" -> putOrRemove(options, k, v, !(v.isBoolean() && v.asBoolean().getValue()));
                case "cappedSize" -> options.put("size", v);
                case "cappedMax" -> putOrRemove(options, "max", v, v.isNumber() && v.asNumber().longValue() == 0);
                case "timeseries" -> {
                    BsonDocument ts = options.containsKey("timeseries") ? options.getDocument("timeseries") : new BsonDocument();
                    for (Map.Entry<String, BsonValue> t : v.asDocument().entrySet()) {
                        ts.put(t.getKey(), t.getValue());
                    }
                    options.put("timeseries", ts);
                }
                // Internal markers with no effect on what is stored or restored.
                case "isTimeseriesNamespace" -> {
                }
                default -> throw EntryFailure.unsupported("collMod option " + k);
            }
        }
        batch.putNamespace(n.withOptions(CatalogDocs.raw(options)).withIndexes(indexes));
    }

    private static void putOrRemove(BsonDocument d, String k, BsonValue v, boolean remove) {
        if (remove) {
            d.remove(k);
        } else {
            d.put(k, v);
        }
    }

    private List<RawBsonDocument> modifyIndex(NamespaceEntry n, List<RawBsonDocument> indexes, BsonDocument change) {
        List<RawBsonDocument> out = new ArrayList<>(indexes);
        int at = -1;
        for (int i = 0; i < out.size(); i++) {
            RawBsonDocument spec = out.get(i);
            if ((change.containsKey("name") && change.get("name").equals(spec.get("name")))
                    || (!change.containsKey("name") && change.containsKey("keyPattern") && change.get("keyPattern").equals(spec.get("key")))) {
                at = i;
                break;
            }
        }
        if (at < 0) {
            if (strict) {
                throw EntryFailure.divergence("collMod of an index " + n.ns() + " does not have: " + change.toJson());
            }
            return indexes;
        }
        BsonDocument spec = CatalogDocs.mutable(out.get(at));
        for (Map.Entry<String, BsonValue> f : change.entrySet()) {
            String k = f.getKey();
            BsonValue v = f.getValue();
            switch (k) {
                case "name", "keyPattern" -> {
                }
                case "expireAfterSeconds" -> spec.put(k, v);
                case "hidden", "prepareUnique" -> putOrRemove(spec, k, v, !v.asBoolean().getValue());
                case "unique" -> {
                    if (v.asBoolean().getValue()) {
                        spec.put("unique", BsonBoolean.TRUE);
                        spec.remove("prepareUnique");
                    }
                }
                default -> throw EntryFailure.unsupported("collMod index option " + k);
            }
        }
        out.set(at, CatalogDocs.raw(spec));
        return out;
    }

    // ---------------------------------------------------------------- indexes

    private List<RawBsonDocument> withIndex(NamespaceEntry n, List<RawBsonDocument> indexes, RawBsonDocument spec) {
        BsonValue name = spec.get("name");
        if (name == null || !name.isString()) {
            throw EntryFailure.unsupported("index spec without name");
        }
        List<RawBsonDocument> out = new ArrayList<>(indexes);
        for (int i = 0; i < out.size(); i++) {
            if (name.equals(out.get(i).get("name"))) {
                if (CatalogDocs.sameBytes(out.get(i), spec)) {
                    return out;
                }
                if (strict) {
                    throw EntryFailure.divergence("index " + name.asString().getValue() + " on " + n.ns() + " exists with a different spec");
                }
                out.set(i, spec);
                return out;
            }
        }
        out.add(spec);
        return out;
    }

    private void createIndexes(OplogEntry op, String db) {
        NamespaceEntry n = commandTarget(op, db, "createIndexes");
        if (n == null) {
            return;
        }
        RawBsonDocument spec = ViewDefinitions.withoutFields(op.buf, op.o, "createIndexes");
        batch.putNamespace(n.withIndexes(withIndex(n, n.indexes(), spec)));
    }

    /**
     * The collection a collection-level command ({@code createIndexes}, {@code collMod}, ...)
     * names in its {@code command} field; null when it is internal or lenient mode skips it.
     */
    private NamespaceEntry commandTarget(OplogEntry op, String db, String command) {
        String coll = stringArg(op, command);
        if (InternalNamespaces.isSkipped(db, coll)) {
            return null;
        }
        return target(op, db + "." + coll);
    }

    private static UUID buildUuid(OplogEntry op) {
        BsonCursor c = new BsonCursor();
        if (!c.find(op.buf, op.o, "indexBuildUUID")) {
            throw EntryFailure.unsupported("index build without indexBuildUUID");
        }
        return OplogEntry.uuid(c);
    }

    private static List<RawBsonDocument> buildSpecs(OplogEntry op) {
        BsonCursor c = new BsonCursor();
        if (!c.find(op.buf, op.o, "indexes") || c.type != Bson.ARRAY) {
            throw EntryFailure.unsupported("index build without indexes array");
        }
        List<RawBsonDocument> specs = new ArrayList<>();
        BsonCursor a = new BsonCursor(op.buf, c.valueStart);
        while (a.next()) {
            if (a.type != Bson.DOCUMENT) {
                throw EntryFailure.unsupported("index spec is not an object");
            }
            specs.add(CatalogDocs.sub(op.buf, a.valueStart));
        }
        return specs;
    }

    private void startIndexBuild(OplogEntry op, String db) {
        NamespaceEntry n = commandTarget(op, db, "startIndexBuild");
        if (n == null) {
            return;
        }
        Map<UUID, List<RawBsonDocument>> builds = new LinkedHashMap<>(n.indexBuilds());
        builds.put(buildUuid(op), buildSpecs(op));
        batch.putNamespace(n.withIndexBuilds(builds));
    }

    private void commitIndexBuild(OplogEntry op, String db) {
        NamespaceEntry n = commandTarget(op, db, "commitIndexBuild");
        if (n == null) {
            return;
        }
        Map<UUID, List<RawBsonDocument>> builds = new LinkedHashMap<>(n.indexBuilds());
        builds.remove(buildUuid(op));
        // The commit entry carries the full specs, so a build whose start preceded the head's
        // initial sync still ends with the right indexes.
        List<RawBsonDocument> indexes = n.indexes();
        for (RawBsonDocument spec : buildSpecs(op)) {
            indexes = withIndex(n, indexes, spec);
        }
        batch.putNamespace(n.withIndexes(indexes).withIndexBuilds(builds));
    }

    private void abortIndexBuild(OplogEntry op, String db) {
        NamespaceEntry n = commandTarget(op, db, "abortIndexBuild");
        if (n == null) {
            return;
        }
        Map<UUID, List<RawBsonDocument>> builds = new LinkedHashMap<>(n.indexBuilds());
        if (builds.remove(buildUuid(op)) != null) {
            batch.putNamespace(n.withIndexBuilds(builds));
        }
    }

    private void dropIndex(OplogEntry op, String db) {
        String cmd = op.commandName();
        String coll = stringArg(op, cmd);
        if (InternalNamespaces.isSkipped(db, coll)) {
            return;
        }
        NamespaceEntry n = target(op, db + "." + coll);
        if (n == null) {
            return;
        }
        BsonValue index = CatalogDocs.mutable(CatalogDocs.sub(op.buf, op.o)).get("index");
        if (index == null || (index.isString() && index.asString().getValue().equals("*"))) {
            throw EntryFailure.unsupported(cmd + " without a single index");
        }
        List<RawBsonDocument> out = new ArrayList<>(n.indexes());
        boolean removed = out.removeIf(spec -> index.isString() ? index.equals(spec.get("name")) : index.equals(spec.get("key")));
        if (!removed) {
            if (strict) {
                throw EntryFailure.divergence("drop of index " + index + " that " + n.ns() + " does not have");
            }
            return;
        }
        batch.putNamespace(n.withIndexes(out));
    }

    // ---------------------------------------------------------------- applyOps and transactions

    private void applyOps(OplogEntry op, boolean topLevel) {
        if (!topLevel || !op.isTransactionEntry()) {
            // A plain applyOps (user command, or a batched multi-document write): apply in order now.
            entries.applyOpsArray(op);
            return;
        }
        byte[] key = op.transactionKey();
        PendingTransactions.Txn pending = batch.pendingTxn(key);
        checkChain(op, pending);
        if (pending != null && pending.prepared()) {
            throw EntryFailure.divergence("applyOps for a transaction that is already prepared");
        }
        int ops = op.applyOpsCount();
        boolean partial = op.isPartial();
        boolean prepare = op.isPrepare();
        if (!partial) {
            checkCount(op, (pending == null ? 0 : pending.opCount()) + ops);
        }
        if (partial || prepare) {
            batch.appendPending(key, op, prepare, ops);
            return;
        }
        if (pending != null) {
            applyPending(pending);
            batch.removePending(pending);
        }
        entries.applyOpsArray(op);
    }

    private static void checkChain(OplogEntry op, PendingTransactions.Txn pending) {
        if (pending == null) {
            if (op.prevTs != null) {
                throw EntryFailure.divergence("transaction entry follows " + op.prevTs + ", which the head never saw");
            }
        } else if (op.prevTs == null || !op.prevTs.equals(pending.lastTs())) {
            throw EntryFailure.divergence("transaction entry follows " + op.prevTs + " but its last entry was " + pending.lastTs());
        }
    }

    private static void checkCount(OplogEntry op, int total) {
        BsonCursor c = new BsonCursor();
        if (c.find(op.buf, op.o, "count") && c.integralValue() != total) {
            throw EntryFailure.divergence("transaction has " + total + " operations but its entry says count " + c.integralValue());
        }
    }

    private void applyPending(PendingTransactions.Txn t) {
        for (byte[] raw : t.entries()) {
            entries.applyOpsArray(OplogEntry.parse(raw, 0));
        }
    }

    private void commitTransaction(OplogEntry op, boolean topLevel) {
        if (!topLevel || !op.isTransactionEntry()) {
            throw EntryFailure.unsupported("commitTransaction without lsid and txnNumber");
        }
        PendingTransactions.Txn pending = batch.pendingTxn(op.transactionKey());
        if (pending == null || !pending.prepared()) {
            throw EntryFailure.divergence("commitTransaction for a transaction the head has not seen prepared");
        }
        if (op.prevTs != null && !op.prevTs.equals(pending.lastTs())) {
            throw EntryFailure.divergence("commitTransaction follows " + op.prevTs + " but the prepare was " + pending.lastTs());
        }
        applyPending(pending);
        batch.removePending(pending);
    }

    private void abortTransaction(OplogEntry op, boolean topLevel) {
        if (!topLevel || !op.isTransactionEntry()) {
            throw EntryFailure.unsupported("abortTransaction without lsid and txnNumber");
        }
        PendingTransactions.Txn pending = batch.pendingTxn(op.transactionKey());
        if (pending != null) {
            batch.removePending(pending);
        }
    }

    private static byte[] bytesOf(RawBsonDocument d) {
        var bb = d.getByteBuffer();
        byte[] out = new byte[bb.limit() - bb.position()];
        System.arraycopy(bb.array(), bb.position(), out, 0, out.length);
        return out;
    }
}
