package io.tidemark.agent;

import com.mongodb.reactivestreams.client.MongoCollection;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.tidemark.shared.oplog.BackedUpNamespaces;
import io.vertx.core.buffer.Buffer;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;
import org.bson.BsonBinaryWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copies every user collection of the source into the sync store: each collection's catalog entry
 * (options, UUID, index specs) and then its documents in slices of about {@code sliceBytes}, with at
 * most {@code slicesInFlight} slices uploading at once.
 */
final class InitialSync {

    private static final Logger LOG = LoggerFactory.getLogger(InitialSync.class);
    private final SourceDeployment source;
    private final IngestClient client;
    private final String job;
    private final long gen;
    private final int sliceBytes;
    private final int slicesInFlight;
    private final AtomicLong documents = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private int collections;

    InitialSync(SourceDeployment source, IngestClient client, String job, long gen, int sliceBytes, int slicesInFlight) {
        this.source = source;
        this.client = client;
        this.job = job;
        this.gen = gen;
        this.sliceBytes = sliceBytes;
        this.slicesInFlight = slicesInFlight;
    }

    long documents() {
        return documents.get();
    }

    int collections() {
        return collections;
    }

    long bytes() {
        return bytes.get();
    }

    /** Copies everything; completes when every slice is acknowledged. */
    Mono<Void> copyAll() {
        return Flux.from(source.client().listDatabaseNames())
                .filter(db -> !db.equals("local"))
                .sort()
                .concatMap(this::copyDatabase, 1)
                .then();
    }

    private Flux<Void> copyDatabase(String dbName) {
        MongoDatabase db = source.client().getDatabase(dbName);
        return Flux.from(db.listCollections(RawBsonDocument.class))
                .filter(info -> BackedUpNamespaces.isBackedUp(dbName, info.getString("name").getValue()))
                .sort((a, b) -> a.getString("name").getValue().compareTo(b.getString("name").getValue()))
                .concatMap(info -> copyCollection(db, info), 1);
    }

    private Mono<Void> copyCollection(MongoDatabase db, RawBsonDocument info) {
        String name = info.getString("name").getValue();
        String ns = db.getName() + "." + name;
        String type = info.containsKey("type") ? info.getString("type").getValue() : "collection";
        boolean hasDocuments = type.equals("collection");
        Mono<BsonArray> indexes = type.equals("view") ? Mono.just(new BsonArray())
                : Flux.from(db.getCollection(name).listIndexes(RawBsonDocument.class))
                        .map(d -> (org.bson.BsonValue) d.clone())
                        .collectList().map(BsonArray::new)
                        .onErrorResume(e -> Mono.just(new BsonArray()));
        return indexes
                .flatMap(ix -> Mono.fromCompletionStage(client.putCollection(job, gen, ns, encode(
                        new BsonDocument("info", info.clone()).append("indexes", ix))).toCompletionStage()))
                .then(Mono.defer(() -> {
                    collections++;
                    if (!hasDocuments) {
                        LOG.info("job {}: recorded {} {} (no documents of its own)", job, type, ns);
                        return Mono.empty();
                    }
                    return copyDocuments(db.getCollection(name, RawBsonDocument.class), ns);
                }));
    }

    private Mono<Void> copyDocuments(MongoCollection<RawBsonDocument> collection, String ns) {
        long before = documents.get();
        AtomicLong seq = new AtomicLong();
        SizeBoundary boundary = new SizeBoundary(sliceBytes);
        return Flux.from(collection.find().batchSize(1000))
                .bufferUntil(doc -> boundary.add(RawBson.size(doc)))
                .flatMap(slice -> upload(ns, seq.getAndIncrement(), slice), slicesInFlight)
                .then(Mono.fromRunnable(() -> LOG.info("job {}: copied {} ({} documents)", job, ns, documents.get() - before)));
    }

    private Mono<Void> upload(String ns, long seq, List<RawBsonDocument> slice) {
        int size = slice.stream().mapToInt(RawBson::size).sum();
        Buffer body = Buffer.buffer(size);
        slice.forEach(d -> RawBson.appendTo(body, d));
        return Mono.fromCompletionStage(() -> client.putSlice(job, gen, ns, seq, body).toCompletionStage())
                .retryWhen(reactor.util.retry.Retry.backoff(5, java.time.Duration.ofMillis(200))
                        .filter(e -> !(e instanceof IngestRejection)))
                .doOnSuccess(v -> {
                    documents.addAndGet(slice.size());
                    bytes.addAndGet(size);
                });
    }

    private static byte[] encode(BsonDocument doc) {
        BasicOutputBuffer out = new BasicOutputBuffer();
        new BsonDocumentCodec().encode(new BsonBinaryWriter(out), doc, EncoderContext.builder().build());
        return out.toByteArray();
    }
}
