package io.tidemark.applier;

import com.mongodb.client.model.Filters;
import com.mongodb.reactivestreams.client.MongoClient;
import io.tidemark.shared.oplog.BackedUpNamespaces;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The live source's side of {@code tidemark verify}: per backed-up namespace, the same count and
 * order-independent content hash a head reports, and whether backed-up data changed after a
 * position (then the two sides are not comparable and verification tries again).
 */
public final class SourceHashes {

    private SourceHashes() {
    }

    /** {ns: {count, hash}} for every backed-up collection with documents of its own. Blocking. */
    public static JsonObject compute(MongoClient source) {
        JsonObject out = new JsonObject();
        for (String db : Flux.from(source.listDatabaseNames()).toIterable()) {
            for (RawBsonDocument info : Flux.from(source.getDatabase(db).listCollections(RawBsonDocument.class)).toIterable()) {
                String name = info.getString("name").getValue();
                String type = info.containsKey("type") ? info.getString("type").getValue() : "collection";
                if (!type.equals("collection") || !BackedUpNamespaces.isBackedUp(db, name)) {
                    continue;
                }
                VerifyHash hash = new VerifyHash();
                for (RawBsonDocument doc : Flux.from(source.getDatabase(db).getCollection(name, RawBsonDocument.class)
                        .find().batchSize(1000)).toIterable(1000)) {
                    hash.add(doc);
                }
                VerifyHash.Result r = hash.result();
                out.put(db + "." + name, new JsonObject().put("count", r.count()).put("hash", r.hex()));
            }
        }
        return out;
    }

    /** The source's newest oplog position. */
    public static OpTime latest(MongoClient source) {
        RawBsonDocument last = Mono.from(source.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class)
                .find().sort(new BsonDocument("$natural", new BsonInt32(-1))).limit(1).first()).block();
        return last == null ? OpTime.ZERO : OpTime.of(last.getTimestamp("ts"));
    }

    /** Whether any entry after {@code after} changes backed-up data (no-ops and internal namespaces do not). */
    public static boolean changedAfter(MongoClient source, OpTime after) {
        for (RawBsonDocument e : Flux.from(source.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class)
                .find(Filters.and(Filters.gt("ts", after.toBson()), Filters.ne("op", "n")))).toIterable()) {
            String ns = e.getString("ns").getValue();
            int dot = ns.indexOf('.');
            if (dot < 0 || BackedUpNamespaces.isBackedUp(ns.substring(0, dot), ns.substring(dot + 1))) {
                return true;
            }
        }
        return false;
    }
}
