package io.tidemark.deploy.demo;

import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.UuidRepresentation;

import java.util.List;
import java.util.UUID;

/**
 * One oplog operation before it is stamped, with factories for the shapes MongoDB 7.0 writes.
 *
 * <p>No entry carries a {@code ui} except {@code create}. A {@code ui} names the collection by its
 * UUID, and a head built from an initial sync knows a collection's UUID only from the source's
 * listCollections {@code info.uuid}, which mongo-java-server does not report: a {@code ui} on an
 * insert into a copied collection would match nothing in the head. Without one, the entry is the
 * older (pre-3.6) but real MongoDB shape that appliers resolve by {@code ns}. {@code create} keeps
 * its {@code ui} because a head must record the UUID of the collection it creates (and the applier
 * refuses a create without one); nothing later refers to it. For the same reason a rename writes
 * {@code dropTarget} as a boolean, which is what MongoDB writes when it does not name collections
 * by UUID.
 *
 * @param ui only for {@code create}, else null
 * @param o2 null when the shape has none
 */
record OplogOp(String op, String ns, UUID ui, BsonDocument o, BsonDocument o2) {

    static OplogOp insert(String ns, BsonDocument document) {
        return new OplogOp("i", ns, null, document, idOnly(document.get("_id")));
    }

    /** A {@code $v: 2} delta update; {@code diff} holds the d, u and i sections that apply. */
    static OplogOp update(String ns, BsonValue id, BsonDocument diff) {
        return new OplogOp("u", ns, null, new BsonDocument("$v", new BsonInt32(2)).append("diff", diff), idOnly(id));
    }

    static OplogOp replace(String ns, BsonDocument document) {
        return new OplogOp("u", ns, null, document, idOnly(document.get("_id")));
    }

    static OplogOp delete(String ns, BsonValue id) {
        return new OplogOp("d", ns, null, idOnly(id), null);
    }

    /** {@code {create: coll, <options>, idIndex: {v: 2, key: {_id: 1}, name: "_id_"}}}. */
    static OplogOp create(String db, String coll, UUID uuid, BsonDocument options) {
        BsonDocument o = new BsonDocument("create", new BsonString(coll));
        o.putAll(options);
        o.put("idIndex", IndexSpecs.ID_INDEX.clone());
        return new OplogOp("c", db + ".$cmd", uuid, o, null);
    }

    static OplogOp drop(String db, String coll, long numRecords) {
        return command(db, new BsonDocument("drop", new BsonString(coll)), new BsonDocument("numRecords", new BsonInt64(numRecords)));
    }

    static OplogOp rename(String from, String to, boolean dropTarget) {
        BsonDocument o = new BsonDocument("renameCollection", new BsonString(from))
                .append("to", new BsonString(to))
                .append("stayTemp", BsonBoolean.FALSE)
                .append("dropTarget", BsonBoolean.valueOf(dropTarget));
        return command(Namespaces.db(from), o, null);
    }

    /** An index built in one entry, as MongoDB does on an empty collection. */
    static OplogOp createIndexes(String db, String coll, BsonDocument spec) {
        BsonDocument o = new BsonDocument("createIndexes", new BsonString(coll));
        o.putAll(spec);
        return command(db, o, null);
    }

    /** {@code startIndexBuild} or {@code commitIndexBuild}: a two-phase build on a collection with documents. */
    static OplogOp indexBuild(String phase, String db, String coll, UUID buildUuid, BsonDocument spec) {
        BsonDocument o = new BsonDocument(phase, new BsonString(coll))
                .append("indexBuildUUID", new BsonBinary(buildUuid, UuidRepresentation.STANDARD))
                .append("indexes", new BsonArray(List.of(spec)));
        return command(db, o, null);
    }

    /** {@code o2} is the dropped index's spec. */
    static OplogOp dropIndex(String db, String coll, BsonDocument spec) {
        BsonDocument o = new BsonDocument("dropIndexes", new BsonString(coll)).append("index", spec.get("name"));
        return command(db, o, spec);
    }

    private static OplogOp command(String db, BsonDocument o, BsonDocument o2) {
        return new OplogOp("c", db + ".$cmd", null, o, o2);
    }

    private static BsonDocument idOnly(BsonValue id) {
        return new BsonDocument("_id", id);
    }

    /** The entry with its fields in MongoDB's order: op, ns, ui, o, o2, ts, t, v, wall. */
    BsonDocument stamped(BsonTimestamp ts, long wallMillis) {
        BsonDocument e = new BsonDocument("op", new BsonString(op)).append("ns", new BsonString(ns));
        if (ui != null) {
            e.append("ui", new BsonBinary(ui, UuidRepresentation.STANDARD));
        }
        e.append("o", o);
        if (o2 != null) {
            e.append("o2", o2);
        }
        // t: the election term (a single never-re-elected primary stays in term 1); v: the oplog
        // format version MongoDB has written since 3.0.
        return e.append("ts", ts)
                .append("t", new BsonInt64(1))
                .append("v", new BsonInt64(2))
                .append("wall", new BsonDateTime(wallMillis));
    }
}
