package io.tidemark.agent;

import com.mongodb.ReadConcern;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.tidemark.shared.oplog.OpTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.Document;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Mono;

/**
 * The replica set being backed up, read through the official reactive-streams driver. Knows
 * whether it is a real replica-set member (then the oplog is read at majority, so nothing that
 * could roll back is ever shipped) or an oplog-keeping test server.
 */
final class SourceDeployment implements AutoCloseable {

    private final MongoClient client;
    private volatile boolean replicaSet;

    SourceDeployment(String uri) {
        this.client = MongoClients.create(uri);
    }

    /** Checks that the source has an oplog to follow and learns what kind of server it is. */
    Mono<Void> probe() {
        Mono<Document> hello = Mono.from(client.getDatabase("admin").runCommand(new Document("hello", 1)))
                .onErrorResume(e -> Mono.from(client.getDatabase("admin").runCommand(new Document("isMaster", 1))));
        return hello.flatMap(reply -> {
            replicaSet = reply.containsKey("setName");
            if (reply.containsKey("msg") && "isdbgrid".equals(reply.get("msg"))) {
                return Mono.error(new IllegalStateException("the source is a mongos; point the agent at each shard's replica set"));
            }
            return Mono.from(client.getDatabase("local").listCollectionNames())
                    .filter("oplog.rs"::equals)
                    .switchIfEmpty(Mono.error(new IllegalStateException(
                            "the source has no oplog (local.oplog.rs): Tidemark backs up replica-set members")))
                    .then();
        });
    }

    boolean replicaSet() {
        return replicaSet;
    }

    MongoCollection<RawBsonDocument> oplog() {
        MongoCollection<RawBsonDocument> oplog = client.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class);
        return replicaSet ? oplog.withReadConcern(ReadConcern.MAJORITY) : oplog;
    }

    /** The newest entry's timestamp, or {@link OpTime#ZERO} for an empty oplog. */
    Mono<OpTime> latestTs() {
        return Mono.from(oplog().find().sort(new BsonDocument("$natural", new BsonInt32(-1))).limit(1).first())
                .map(d -> OpTime.of(d.getTimestamp("ts")))
                .defaultIfEmpty(OpTime.ZERO);
    }

    /**
     * Where oplog fetching must begin so that transactions already open at {@code startTs} are
     * captured whole: the oldest active transaction's first entry, as MongoDB's initial sync does.
     */
    Mono<OpTime> fetchStart(OpTime startTs) {
        if (!replicaSet) {
            return Mono.just(startTs);
        }
        return Mono.from(client.getDatabase("config").getCollection("transactions", RawBsonDocument.class)
                        .find(Filters.in("state", "inProgress", "prepared"))
                        .sort(Sorts.ascending("startOpTime.ts")).limit(1).first())
                .filter(t -> t.isDocument("startOpTime"))
                .map(t -> OpTime.of(t.getDocument("startOpTime").getTimestamp("ts")))
                .filter(oldest -> oldest.compareTo(startTs) <= 0)
                // Fetching starts at the entry just before the transaction's first, an existing entry
                // so that the tail can prove continuity from it.
                .flatMap(oldest -> Mono.from(oplog().find(Filters.lt("ts", oldest.toBson()))
                                .sort(new BsonDocument("$natural", new BsonInt32(-1))).limit(1).first())
                        .map(d -> OpTime.of(d.getTimestamp("ts")))
                        .defaultIfEmpty(OpTime.ZERO))
                .defaultIfEmpty(startTs);
    }

    /** The digest of the entry at {@code ts}; empty for {@link OpTime#ZERO} or a missing entry. */
    Mono<String> entryDigest(OpTime ts) {
        if (ts.equals(OpTime.ZERO)) {
            return Mono.empty();
        }
        return Mono.from(oplog().find(Filters.eq("ts", ts.toBson())).first()).map(RawBson::digest);
    }

    MongoClient client() {
        return client;
    }

    @Override
    public void close() {
        client.close();
    }
}
