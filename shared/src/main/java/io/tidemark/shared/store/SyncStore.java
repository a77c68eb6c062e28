package io.tidemark.shared.store;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.reactivestreams.client.MongoCollection;
import com.mongodb.reactivestreams.client.MongoDatabase;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The sync store: an initial sync's collection metadata and document slices, per job and sync
 * generation (a restarted sync gets a new generation, so stale slices can never mix in).
 */
public final class SyncStore {

    private final MongoCollection<BsonDocument> slices;
    private final MongoCollection<RawBsonDocument> rawSlices;
    private final MongoCollection<BsonDocument> parts;
    private final MongoCollection<RawBsonDocument> rawParts;
    private final MongoCollection<BsonDocument> collections;
    private final MongoCollection<RawBsonDocument> rawCollections;

    SyncStore(MongoDatabase db) {
        this.slices = db.getCollection("syncSlices", BsonDocument.class);
        this.rawSlices = db.getCollection("syncSlices", RawBsonDocument.class);
        this.parts = db.getCollection("syncSlices.parts", BsonDocument.class);
        this.rawParts = db.getCollection("syncSlices.parts", RawBsonDocument.class);
        this.collections = db.getCollection("syncCollections", BsonDocument.class);
        this.rawCollections = db.getCollection("syncCollections", RawBsonDocument.class);
    }

    Mono<Void> createIndexes() {
        return Mono.from(slices.createIndex(Indexes.ascending("job", "gen", "ns", "seq"), new IndexOptions().name("job_gen_ns_seq")))
                .then();
    }

    private static BsonDocument sliceId(String job, long gen, String ns, long seq) {
        return new BsonDocument("job", new BsonString(job)).append("gen", new BsonInt64(gen))
                .append("ns", new BsonString(ns)).append("seq", new BsonInt64(seq));
    }

    /**
     * Stores one slice of a collection's documents; storing the same slice again replaces it with
     * identical content. {@code payload} is compressed by the caller, on a worker.
     */
    public Mono<Void> putSlice(String job, long gen, String ns, long seq, int count, CompressedPayload payload) {
        BsonDocument id = sliceId(job, gen, ns, seq);
        BsonDocument doc = new BsonDocument("_id", id)
                .append("job", new BsonString(job)).append("gen", new BsonInt64(gen))
                .append("ns", new BsonString(ns)).append("seq", new BsonInt64(seq))
                .append("n", new BsonInt32(count))
                .append("createdAt", new BsonDateTime(System.currentTimeMillis()));
        return StoredPayload.attach(doc, payload, parts)
                .flatMap(d -> Mono.from(slices.replaceOne(Filters.eq("_id", id), d, new ReplaceOptions().upsert(true))))
                .then();
    }

    /**
     * Records a collection's catalog entry as listCollections and listIndexes reported it:
     * {@code info} holds name, type, options and info.uuid; {@code indexes} the index specs.
     */
    public Mono<Void> putCollection(String job, long gen, String ns, BsonDocument info, org.bson.BsonArray indexes) {
        BsonDocument id = new BsonDocument("job", new BsonString(job)).append("gen", new BsonInt64(gen))
                .append("ns", new BsonString(ns));
        BsonDocument doc = new BsonDocument("_id", id).append("job", new BsonString(job))
                .append("gen", new BsonInt64(gen)).append("ns", new BsonString(ns))
                .append("info", info).append("indexes", indexes);
        return Mono.from(collections.replaceOne(Filters.eq("_id", id), doc, new ReplaceOptions().upsert(true))).then();
    }

    /** A sync's collections in namespace order. */
    public Flux<RawBsonDocument> collections(String job, long gen) {
        return Flux.from(rawCollections.find(Filters.and(Filters.eq("job", job), Filters.eq("gen", gen)))
                .sort(Sorts.ascending("ns")));
    }

    /**
     * A namespace's slices in copy order, decompressed, one at a time. A slice listed but gone
     * when read (removed meanwhile) fails the read: skipping it would lose its documents unseen.
     */
    public Flux<byte[]> slices(String job, long gen, String ns) {
        return Flux.from(rawSlices.find(Filters.and(Filters.eq("job", job), Filters.eq("gen", gen), Filters.eq("ns", ns)))
                        .projection(Projections.include("_id")).sort(Sorts.ascending("seq")))
                .concatMap(header -> Mono.from(rawSlices.find(Filters.eq("_id", header.get("_id"))).first())
                        .switchIfEmpty(Mono.error(() -> new IllegalStateException("sync slice " + header.get("_id")
                                + " was listed but is gone: the sync's slices were removed while they were read")))
                        .flatMap(d -> StoredPayload.read(d, rawParts)), 1);
    }

    /** Number of documents stored for one namespace of a sync. */
    public Mono<Long> documents(String job, long gen, String ns) {
        return Flux.from(rawSlices.find(Filters.and(Filters.eq("job", job), Filters.eq("gen", gen), Filters.eq("ns", ns)))
                        .projection(Projections.include("n")))
                .reduce(0L, (acc, d) -> acc + d.getInt32("n").getValue());
    }

    /** Number of slices and documents stored for a sync. */
    public Mono<long[]> totals(String job, long gen) {
        return Flux.from(rawSlices.find(Filters.and(Filters.eq("job", job), Filters.eq("gen", gen)))
                        .projection(Projections.include("n", "rawBytes")))
                .reduce(new long[3], (acc, d) -> {
                    acc[0]++;
                    acc[1] += d.getInt32("n").getValue();
                    acc[2] += d.getInt32("rawBytes").getValue();
                    return acc;
                });
    }

    /** Removes every slice and collection entry of a job's syncs other than {@code keepGen} (-1: all). */
    public Mono<Void> deleteOtherGenerations(String job, long keepGen) {
        var filter = Filters.and(Filters.eq("job", job), Filters.ne("gen", keepGen));
        return Mono.from(parts.deleteMany(Filters.and(Filters.eq("_id.of.job", job), Filters.ne("_id.of.gen", keepGen))))
                .then(Mono.from(slices.deleteMany(filter)))
                .then(Mono.from(collections.deleteMany(filter)))
                .then();
    }
}
