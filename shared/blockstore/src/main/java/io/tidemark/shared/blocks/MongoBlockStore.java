package io.tidemark.shared.blocks;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;

import com.mongodb.ErrorCategory;
import com.mongodb.MongoWriteException;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoCollection;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.conversions.Bson;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Blocks as documents of a {@code blocks} collection in the blockstore database:
 * {@code {_id: "<hex sha-256>", data: BinData, size: <stored bytes>, uncompressedSize,
 * createdAt}}. The hex id (rather than 32 bytes of BinData) is what manifests, file names and
 * log lines use, so an operator can look a block up by pasting it.
 *
 * <p>Durability is the collection's write concern: the caller hands in a collection
 * configured with {@code w: "majority"} (and journaling) on a replica set. A duplicate-key
 * error on insert means the block is already there, which is how concurrent writers of the
 * same block settle who wrote it.
 *
 * <p>A block that fails its checks on read is marked in place ({@code corrupt}: why, and
 * {@code corruptAt}), not deleted: from then on {@link #exists} and {@link #stat} do not offer it
 * for deduplication, {@link #read} names it corrupt, and the next put of the same block (a forced
 * snapshot, {@code repair}) replaces it with the good bytes.
 *
 * <p>The driver completes operations on its own I/O threads; decompression and hashing on
 * read are moved to {@code cpu} so they never run there.
 */
public final class MongoBlockStore implements BlockStore {

    public static final String DATA = "data";
    public static final String SIZE = "size";
    public static final String UNCOMPRESSED_SIZE = "uncompressedSize";
    public static final String CREATED_AT = "createdAt";
    public static final String CORRUPT = "corrupt";

    private static final Bson WITHOUT_DATA = Projections.exclude(DATA);
    /** Listing returns metadata only; a modest batch keeps replies small and the cursor moving. */
    private static final int LIST_BATCH = 1000;

    private final MongoCollection<BsonDocument> blocks;
    private final Scheduler cpu;

    public MongoBlockStore(MongoCollection<?> blocks) {
        this(blocks, Schedulers.parallel());
    }

    public MongoBlockStore(MongoCollection<?> blocks, Scheduler cpu) {
        this.blocks = Objects.requireNonNull(blocks, "blocks").withDocumentClass(BsonDocument.class);
        this.cpu = Objects.requireNonNull(cpu, "cpu");
    }

    @Override
    public Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength) {
        return Mono.defer(() -> {
            BlockCodec.checkFrame(id, compressed, uncompressedLength);
            BsonDocument doc = new BsonDocument("_id", new BsonString(id.hex()))
                    .append(DATA, new BsonBinary(compressed))
                    .append(SIZE, new BsonInt32(compressed.length))
                    .append(UNCOMPRESSED_SIZE, new BsonInt32(uncompressedLength))
                    .append(CREATED_AT, new BsonDateTime(System.currentTimeMillis()));
            return Mono.from(blocks.insertOne(doc))
                    .thenReturn(true)
                    // there already: written again only when it is held as corrupt
                    .onErrorResume(MongoBlockStore::isDuplicateKey, e -> Mono.from(blocks.replaceOne(
                                    and(eq("_id", id.hex()), Filters.exists(CORRUPT)), doc))
                            .map(r -> r.getMatchedCount() == 1));
        });
    }

    @Override
    public Mono<Boolean> exists(BlockId id) {
        return stat(id).hasElement();
    }

    @Override
    public Mono<BlockInfo> stat(BlockId id) {
        return Mono.from(blocks.find(and(eq("_id", id.hex()), Filters.exists(CORRUPT, false))).projection(WITHOUT_DATA).first())
                .map(doc -> infoOf(id, doc));
    }

    @Override
    public Mono<byte[]> read(BlockId id) {
        return Mono.from(blocks.find(eq("_id", id.hex())).first())
                .switchIfEmpty(Mono.error(() -> new BlockNotFoundException(id)))
                .publishOn(cpu)
                .map(doc -> decode(id, doc))
                .onErrorResume(CorruptBlockException.class, e -> Mono.from(blocks.updateOne(
                                and(eq("_id", id.hex()), Filters.exists(CORRUPT, false)),
                                Updates.combine(Updates.set(CORRUPT, e.getMessage()),
                                        Updates.set("corruptAt", new BsonDateTime(System.currentTimeMillis())))))
                        .onErrorResume(markFailed -> Mono.empty()) // found corrupt again by the next read
                        .then(Mono.error(e)));
    }

    @Override
    public Flux<BlockInfo> list() {
        return Flux.from(blocks.find().projection(WITHOUT_DATA).batchSize(LIST_BATCH))
                .flatMapIterable(doc -> {
                    BsonValue rawId = doc.get("_id");
                    // Documents that are not blocks do not belong here; skip rather than fail a GC pass.
                    if (rawId == null || !rawId.isString() || !BlockId.isHex(rawId.asString().getValue())) {
                        return List.of();
                    }
                    return List.of(infoOf(BlockId.fromHex(rawId.asString().getValue()), doc));
                });
    }

    @Override
    public Mono<Void> delete(BlockId id) {
        return Mono.from(blocks.deleteOne(eq("_id", id.hex()))).then();
    }

    @Override
    public Mono<Long> storedBytes() {
        return Mono.from(blocks.aggregate(List.of(
                        Aggregates.group(null, Accumulators.sum("total", "$" + SIZE)))).first())
                .map(doc -> doc.get("total").asNumber().longValue())
                .defaultIfEmpty(0L);
    }

    private static boolean isDuplicateKey(Throwable e) {
        return e instanceof MongoWriteException w && w.getError().getCategory() == ErrorCategory.DUPLICATE_KEY;
    }

    private static BlockInfo infoOf(BlockId id, BsonDocument doc) {
        BsonValue size = doc.get(SIZE);
        BsonValue created = doc.get(CREATED_AT);
        return new BlockInfo(id,
                size != null && size.isNumber() ? size.asNumber().longValue() : -1,
                created != null && created.isDateTime() ? Instant.ofEpochMilli(created.asDateTime().getValue()) : Instant.EPOCH);
    }

    private static byte[] decode(BlockId id, BsonDocument doc) {
        if (doc.containsKey(CORRUPT)) {
            throw new CorruptBlockException(id, "held as corrupt and not written again since: "
                    + (doc.isString(CORRUPT) ? doc.getString(CORRUPT).getValue() : "(no reason recorded)"));
        }
        BsonValue data = doc.get(DATA);
        BsonValue usize = doc.get(UNCOMPRESSED_SIZE);
        if (data == null || !data.isBinary()) {
            throw new CorruptBlockException(id, "document has no binary '" + DATA + "' field");
        }
        if (usize == null || !usize.isNumber()) {
            throw new CorruptBlockException(id, "document has no numeric '" + UNCOMPRESSED_SIZE + "' field");
        }
        return BlockCodec.decodeVerified(id, data.asBinary().getData(), usize.asNumber().longValue());
    }
}
