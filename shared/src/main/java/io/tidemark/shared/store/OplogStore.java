package io.tidemark.shared.store;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Sorts;
import com.mongodb.reactivestreams.client.MongoCollection;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.tidemark.shared.oplog.OpTime;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The oplog store: a job's oplog as a chain of zstd-compressed batches keyed by job and position
 * range. Each batch records the position it follows ({@code prev}), so a reader can prove the
 * chain has no gap.
 */
public final class OplogStore {

    static final String COLLECTION = "oplog";

    private final MongoCollection<BsonDocument> batches;
    private final MongoCollection<RawBsonDocument> rawBatches;
    private final MongoCollection<BsonDocument> parts;
    private final MongoCollection<RawBsonDocument> rawParts;

    OplogStore(MongoDatabase db) {
        this.batches = db.getCollection(COLLECTION, BsonDocument.class);
        this.rawBatches = db.getCollection(COLLECTION, RawBsonDocument.class);
        this.parts = db.getCollection(COLLECTION + ".parts", BsonDocument.class);
        this.rawParts = db.getCollection(COLLECTION + ".parts", RawBsonDocument.class);
    }

    Mono<Void> createIndexes() {
        return Mono.from(batches.createIndex(Indexes.ascending("job", "last"), new IndexOptions().name("job_last")))
                .then();
    }

    /** A stored batch's header, without its payload. */
    public record BatchInfo(String job, OpTime prev, OpTime first, OpTime last, int count, int rawBytes, String lastSha256) {
        static BatchInfo of(RawBsonDocument d) {
            return new BatchInfo(d.getString("job").getValue(), OpTime.of(d.getTimestamp("prev")),
                    OpTime.of(d.getTimestamp("first")), OpTime.of(d.getTimestamp("last")),
                    d.getInt32("n").getValue(), d.getInt32("rawBytes").getValue(),
                    d.containsKey("lastSha256") ? d.getString("lastSha256").getValue() : null);
        }
    }

    /** Outcome of storing a batch. */
    public enum StoreResult { STORED, ALREADY_STORED }

    /**
     * Stores entries {@code first..last} that follow {@code prev}. Storing the same batch again is a
     * no-op; a different batch at the same place is a conflict. Compresses {@code raw} on the
     * calling thread, so it is for tools and tests; a server passes a {@link CompressedPayload}.
     */
    public Mono<StoreResult> store(String job, OpTime prev, OpTime first, OpTime last, int count, byte[] raw, String lastSha256) {
        return store(job, prev, first, last, count, CompressedPayload.of(raw), lastSha256);
    }

    /** The same with the entries already compressed (on a worker: the caller may be an event loop). */
    public Mono<StoreResult> store(String job, OpTime prev, OpTime first, OpTime last, int count, CompressedPayload payload,
                                   String lastSha256) {
        // Keyed by the position the batch follows: the unique primary key then refuses a second,
        // different batch at the same place, so the chain can never fork, whatever the store.
        BsonDocument id = new BsonDocument("job", new BsonString(job)).append("prev", prev.toBson());
        BsonDocument doc = new BsonDocument("_id", id)
                .append("job", new BsonString(job))
                .append("prev", prev.toBson())
                .append("first", first.toBson())
                .append("last", last.toBson())
                .append("n", new BsonInt32(count))
                .append("lastSha256", new BsonString(lastSha256))
                .append("createdAt", new BsonDateTime(System.currentTimeMillis()));
        return StoredPayload.attach(doc, payload, parts)
                .flatMap(d -> Mono.from(batches.insertOne(d)))
                .map(r -> StoreResult.STORED)
                .onErrorResume(e -> isDuplicateKey(e), e -> Mono.from(rawBatches.find(Filters.eq("_id", id))
                                .projection(Projections.exclude("data")).first())
                        .map(BatchInfo::of)
                        .flatMap(existing -> existing.last().equals(last) && existing.count() == count
                                && existing.prev().equals(prev)
                                ? Mono.just(StoreResult.ALREADY_STORED)
                                : Mono.error(new ChainConflict("a different batch is already stored at "
                                        + prev + " for job " + job))));
    }

    /** A different batch already follows the position: the chain never forks, so this one is refused. */
    public static final class ChainConflict extends IllegalStateException {
        ChainConflict(String message) {
            super(message);
        }
    }

    /** The newest stored batch of a job, if any. */
    public Mono<BatchInfo> latest(String job) {
        return Mono.from(rawBatches.find(Filters.eq("job", job)).projection(Projections.exclude("data"))
                        .sort(Sorts.descending("last")).limit(1).first())
                .map(BatchInfo::of);
    }

    /** The oldest stored batch of a job, if any. */
    public Mono<BatchInfo> oldest(String job) {
        return Mono.from(rawBatches.find(Filters.eq("job", job)).projection(Projections.exclude("data"))
                        .sort(Sorts.ascending("last")).limit(1).first())
                .map(BatchInfo::of);
    }

    /** The stored batch that follows {@code prev}, if any. */
    public Mono<BatchInfo> following(String job, OpTime prev) {
        BsonDocument id = new BsonDocument("job", new BsonString(job)).append("prev", prev.toBson());
        return Mono.from(rawBatches.find(Filters.eq("_id", id)).projection(Projections.exclude("data")).first())
                .map(BatchInfo::of);
    }

    /** Headers of the batches ending after {@code after}, oldest first. */
    public Flux<BatchInfo> batchesAfter(String job, OpTime after, int limit) {
        return Flux.from(rawBatches.find(Filters.and(Filters.eq("job", job), Filters.gt("last", after.toBson())))
                        .projection(Projections.exclude("data")).sort(Sorts.ascending("last")).limit(limit))
                .map(BatchInfo::of);
    }

    /**
     * Batches (header and concatenated raw BSON entries) ending after {@code after}, oldest first,
     * at most {@code limit}; the caller pages on and pulls at its own pace.
     */
    public Flux<Batch> readAfter(String job, OpTime after, int limit) {
        return Flux.from(rawBatches.find(Filters.and(Filters.eq("job", job), Filters.gt("last", after.toBson())))
                        .sort(Sorts.ascending("last")).limit(limit).batchSize(Math.min(limit, 16)))
                .concatMap(d -> StoredPayload.read(d, rawParts).map(raw -> new Batch(BatchInfo.of(d), raw)), 1);
    }

    /**
     * The stored oplog after {@code position}, batch by batch in chain order, ending where nothing
     * follows yet. Each next batch is found by its primary key (the position it follows), so the
     * walk needs no secondary index and proves continuity as it goes. Only when {@code position}
     * falls inside a batch (a head built at a sync's start) is that batch found by range.
     */
    public Flux<Batch> chainAfter(String job, OpTime position, int prefetch) {
        Mono<Batch> first = readFollowing(job, position)
                .switchIfEmpty(Mono.defer(() -> readAfter(job, position, 1).next()));
        return first.expand(batch -> readFollowing(job, batch.info().last()), 1).limitRate(Math.max(1, prefetch));
    }

    private Mono<Batch> readFollowing(String job, OpTime prev) {
        BsonDocument id = new BsonDocument("job", new BsonString(job)).append("prev", prev.toBson());
        return Mono.from(rawBatches.find(Filters.eq("_id", id)).first())
                .flatMap(d -> StoredPayload.read(d, rawParts).map(raw -> new Batch(BatchInfo.of(d), raw)));
    }

    /** One stored batch with its entries. */
    public record Batch(BatchInfo info, byte[] entries) {
    }

    /** Removes every batch of a job (a resync starts its oplog anew). */
    public Mono<Long> deleteJob(String job) {
        return Mono.from(parts.deleteMany(StoredPayload.partsOf("job", new BsonString(job))))
                .then(Mono.from(batches.deleteMany(Filters.eq("job", job))))
                .map(r -> r.getDeletedCount());
    }

    /** What a trim removed (or, for a dry run, would remove). */
    public record TrimResult(long batches, long storedBytes) {
    }

    /**
     * The batches {@link #trimThrough} would remove: those of the job ending at or before
     * {@code through}, except the job's newest batch, which ingest chains the next batch onto.
     */
    public Mono<TrimResult> trimmable(String job, OpTime through) {
        return latest(job).flatMap(newest -> Flux.from(rawBatches.find(trimFilter(job, through, newest.last()))
                        .projection(Projections.include("storedBytes")))
                        .reduce(new TrimResult(0, 0), (acc, d) -> new TrimResult(acc.batches() + 1,
                                acc.storedBytes() + (d.containsKey("storedBytes") ? d.getInt32("storedBytes").getValue() : 0))))
                .defaultIfEmpty(new TrimResult(0, 0));
    }

    /**
     * Removes the job's batches whose last entry is at or before {@code through}: a batch that
     * holds any entry after it stays whole. The newest batch always stays (ingest chains the
     * next batch onto it, and a chain walk needs its predecessor's position), so a trim never
     * empties a job's oplog.
     *
     * <p>Batches go before their payload parts: an interrupted trim leaves orphan parts, never a
     * batch whose payload is missing. The parts are then removed by owner position: every part
     * whose batch follows a position before the oldest remaining batch's {@code prev} belongs to a
     * trimmed batch (the chain is ordered), which also catches the orphans of an earlier,
     * interrupted trim.
     */
    public Mono<TrimResult> trimThrough(String job, OpTime through) {
        return latest(job).flatMap(newest -> Flux.from(rawBatches.find(trimFilter(job, through, newest.last()))
                        .projection(Projections.include("storedBytes")).sort(Sorts.ascending("last")))
                        .concatMap(d -> Mono.from(batches.deleteOne(Filters.eq("_id", d.get("_id")))).thenReturn(d), 1)
                        .reduce(new TrimResult(0, 0), (acc, d) -> new TrimResult(acc.batches() + 1,
                                acc.storedBytes() + (d.containsKey("storedBytes") ? d.getInt32("storedBytes").getValue() : 0))))
                .flatMap(result -> oldestPrev(job)
                        .flatMap(prev -> Mono.from(parts.deleteMany(Filters.and(Filters.eq("_id.of.job", job),
                                Filters.lt("_id.of.prev", prev.toBson())))))
                        .thenReturn(result))
                .defaultIfEmpty(new TrimResult(0, 0));
    }

    private Mono<OpTime> oldestPrev(String job) {
        return Mono.from(rawBatches.find(Filters.eq("job", job)).projection(Projections.include("prev"))
                        .sort(Sorts.ascending("last")).limit(1).first())
                .map(d -> OpTime.of(d.getTimestamp("prev")));
    }

    private static org.bson.conversions.Bson trimFilter(String job, OpTime through, OpTime newestLast) {
        return Filters.and(Filters.eq("job", job), Filters.lte("last", through.toBson()),
                Filters.lt("last", newestLast.toBson()));
    }

    static boolean isDuplicateKey(Throwable e) {
        return e instanceof MongoWriteException w && w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY;
    }
}
