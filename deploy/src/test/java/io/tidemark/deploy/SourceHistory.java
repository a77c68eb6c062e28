package io.tidemark.deploy;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.tidemark.applier.VerifyHash;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.oplog.OpTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The source's exact content at every oplog position since it started recording, kept without
 * anything Tidemark wrote: a copy of every document taken from the source itself (at the start,
 * and after each write as its post-image), indexed by the oplog entry that made it. Snapshots and
 * restores are then compared against what the source really held at their position, not against
 * another Tidemark component that could share a bug with them.
 *
 * <p>{@link #record()} must run after each write and before the next one (the caller serialises
 * them), so the document it reads back is the one the write produced.
 */
final class SourceHistory implements AutoCloseable {

    /** One write: a document's new bytes (null: deleted), or a collection created or dropped (id null). */
    private record Change(OpTime ts, String ns, BsonValue id, byte[] doc, boolean dropped) {
    }

    private final MongoShapedSource source;
    private final MongoClient client;
    private final Map<String, Map<BsonValue, byte[]>> base = new TreeMap<>();
    private final OpTime baseTs;
    private final List<Change> changes = new ArrayList<>();
    private OpTime seen;

    SourceHistory(MongoShapedSource source) {
        this.source = source;
        this.client = MongoClients.create(source.uri());
        this.baseTs = source.latestTs();
        this.seen = baseTs;
        for (String ns : source.namespaces()) {
            Map<BsonValue, byte[]> docs = new HashMap<>();
            for (RawBsonDocument d : source.documents(ns)) {
                docs.put(d.get("_id"), CaptureHarness.bytes(d));
            }
            base.put(ns, docs);
        }
    }

    /** Records the writes since the last call, with each written document as the source now holds it. */
    synchronized void record() {
        for (RawBsonDocument e : client.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class)
                .find(new BsonDocument("ts", new BsonDocument("$gt", seen.toBson())))
                .sort(new BsonDocument("$natural", new BsonInt32(1)))) {
            OpTime ts = OpTime.of(e.getTimestamp("ts"));
            String ns = e.getString("ns").getValue();
            String op = e.getString("op").getValue();
            switch (op) {
                case "i" -> changes.add(new Change(ts, ns, e.getDocument("o").get("_id"),
                        CaptureHarness.bytes(new RawBsonDocument(e.getDocument("o").asDocument(), new org.bson.codecs.BsonDocumentCodec())), false));
                case "u" -> {
                    BsonValue id = e.getDocument("o2").get("_id");
                    RawBsonDocument now = collection(ns).find(new BsonDocument("_id", id)).first();
                    if (now == null) {
                        throw new IllegalStateException("the source has no post-image for " + e.toJson());
                    }
                    changes.add(new Change(ts, ns, id, CaptureHarness.bytes(now), false));
                }
                case "d" -> changes.add(new Change(ts, ns, e.getDocument("o").get("_id"), null, false));
                case "c" -> command(ts, ns.substring(0, ns.indexOf('.')), e.getDocument("o"));
                case "n" -> { }
                default -> throw new IllegalStateException("unexpected oplog entry " + e.toJson());
            }
            seen = ts;
        }
    }

    private void command(OpTime ts, String db, BsonDocument o) {
        String name = o.getFirstKey();
        switch (name) {
            case "create" -> changes.add(new Change(ts, db + "." + o.getString("create").getValue(), null, null, false));
            case "drop" -> changes.add(new Change(ts, db + "." + o.getString("drop").getValue(), null, null, true));
            case "createIndexes", "dropIndexes", "commitIndexBuild", "startIndexBuild" -> { }
            default -> throw new IllegalStateException("the history does not model command " + o.toJson());
        }
    }

    private com.mongodb.client.MongoCollection<RawBsonDocument> collection(String ns) {
        int dot = ns.indexOf('.');
        return client.getDatabase(ns.substring(0, dot)).getCollection(ns.substring(dot + 1), RawBsonDocument.class);
    }

    OpTime baseTs() {
        return baseTs;
    }

    synchronized OpTime latest() {
        return seen;
    }

    /** Every namespace's content hash (documents' exact bytes) as the source held them at {@code ts}. */
    synchronized Map<String, VerifyHash.Result> at(OpTime ts) {
        if (baseTs.isAfter(ts) || ts.isAfter(seen)) {
            throw new IllegalArgumentException(ts + " is outside the recorded history " + baseTs + ".." + seen);
        }
        Map<String, Map<BsonValue, byte[]>> state = new TreeMap<>();
        base.forEach((ns, docs) -> state.put(ns, new HashMap<>(docs)));
        for (Change c : changes) {
            if (c.ts().isAfter(ts)) {
                break;
            }
            if (c.id() == null) {
                if (c.dropped()) {
                    state.remove(c.ns());
                } else {
                    state.putIfAbsent(c.ns(), new HashMap<>());
                }
            } else if (c.doc() == null) {
                state.get(c.ns()).remove(c.id());
            } else {
                // an insert into a collection that does not exist yet creates it, as MongoDB does
                state.computeIfAbsent(c.ns(), k -> new HashMap<>()).put(c.id(), c.doc());
            }
        }
        Map<String, VerifyHash.Result> out = new TreeMap<>();
        state.forEach((ns, docs) -> {
            VerifyHash h = new VerifyHash();
            docs.values().forEach(h::add);
            out.put(ns, h.result());
        });
        return out;
    }

    /** Writes recorded after the start. */
    synchronized int changes() {
        return changes.size();
    }

    @Override
    public void close() {
        client.close();
    }
}
