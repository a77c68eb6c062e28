package io.tidemark.restore.push;

import com.mongodb.ConnectionString;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoClientSettings;
import com.mongodb.WriteConcern;
import com.mongodb.connection.ClusterType;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.tidemark.restore.RestoreSource;
import io.tidemark.restore.pit.DocumentFramer;
import io.tidemark.shared.http.ApiException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Pushes a restore straight into a target MongoDB deployment, the alternative to downloading an
 * archive: namespaces are checked first (a push never writes over data it was not told to drop),
 * then created with their options, filled with unordered bulk inserts of bounded size, and last
 * given their indexes (building them once over loaded data is faster than maintaining them per
 * insert). On a replica set every write waits for a majority, so a finished push survives a
 * failover of the target.
 *
 * <p>Memory is bounded: the source is read only as fast as insert batches are acknowledged, with
 * at most {@link PushOptions#batchesInFlight()} batches of at most {@link PushOptions#batchBytes()}
 * outstanding. Everything runs on the driver's and the source's threads; nothing blocks.
 */
public final class Pusher {

    private static final Logger LOG = LoggerFactory.getLogger(Pusher.class);

    /** Pushes {@code source} into {@code targetUri}; the caller keeps (and closes) the source. */
    public Mono<PushSummary> push(RestoreSource source, String targetUri, PushOptions options, PushProgress progress) {
        ConnectionString uri;
        try {
            uri = new ConnectionString(targetUri);
        } catch (RuntimeException e) {
            return Mono.error(ApiException.badRequest("the push target is not a MongoDB URI: " + e.getMessage()));
        }
        PushPlan plan;
        try {
            plan = PushPlan.of(source.namespaces());
        } catch (IllegalStateException e) {
            return Mono.error(new ApiException(422, e.getMessage()));
        }
        return Mono.usingWhen(
                Mono.fromCallable(() -> MongoClients.create(MongoClientSettings.builder().applyConnectionString(uri).build())),
                client -> new Run(client, uri, source, plan, options, progress == null ? PushProgress.NONE : progress).run(),
                client -> Mono.fromRunnable(client::close));
    }

    /** One push: its client, plan and running totals. */
    private static final class Run {
        private final MongoClient client;
        private final ConnectionString uri;
        private final RestoreSource source;
        private final PushPlan plan;
        private final PushOptions options;
        private final PushProgress progress;
        private final String target;
        private final long began = System.nanoTime();
        private final AtomicLong documents = new AtomicLong();
        private final AtomicLong bytes = new AtomicLong();
        private final AtomicInteger indexes = new AtomicInteger();
        private final List<String> dropped = Collections.synchronizedList(new ArrayList<>());
        private final List<String> reused = Collections.synchronizedList(new ArrayList<>());
        private WriteConcern writeConcern;

        Run(MongoClient client, ConnectionString uri, RestoreSource source, PushPlan plan, PushOptions options,
            PushProgress progress) {
            this.client = client;
            this.uri = uri;
            this.source = source;
            this.plan = plan;
            this.options = options;
            this.progress = progress;
            this.target = redact(uri.getConnectionString());
        }

        Mono<PushSummary> run() {
            return existing()
                    .doOnNext(found -> chooseWriteConcern())
                    .flatMap(this::clearTheWay)
                    .thenMany(Flux.fromIterable(plan.steps).concatMap(this::create, 1))
                    .thenMany(Flux.fromIterable(plan.steps).filter(s -> s.dataCollection() != null).concatMap(this::fill, 1))
                    .thenMany(Flux.fromIterable(plan.steps).concatMap(this::createIndexes, 1))
                    .then(Mono.fromCallable(this::summary));
        }

        /**
         * Majority on a replica set (unless the URI names its own), the server's default elsewhere.
         * Called after the first command, when the driver has discovered what the target is.
         */
        private void chooseWriteConcern() {
            boolean replicaSet = client.getClusterDescription().getType() == ClusterType.REPLICA_SET;
            writeConcern = uri.getWriteConcern() != null ? uri.getWriteConcern()
                    : replicaSet ? WriteConcern.MAJORITY : WriteConcern.ACKNOWLEDGED;
        }

        private MongoDatabase db(String name) {
            return client.getDatabase(name).withWriteConcern(writeConcern);
        }

        /** Per target namespace that exists: whether it holds anything (a view or time series always counts). */
        private Mono<Map<String, Boolean>> existing() {
            return Flux.fromIterable(plan.databases())
                    .concatMap(db -> Flux.from(client.getDatabase(db).listCollections(BsonDocument.class))
                            .concatMap(info -> {
                                String name = info.getString("name").getValue();
                                String type = info.containsKey("type") ? info.getString("type").getValue() : "collection";
                                String ns = db + "." + name;
                                if (!type.equals("collection")) {
                                    return Mono.just(Map.entry(ns, true));
                                }
                                return Flux.from(client.getDatabase(db).getCollection(name, BsonDocument.class).find().limit(1))
                                        .hasElements().map(nonEmpty -> Map.entry(ns, nonEmpty));
                            }, 1), 1)
                    .collectMap(Map.Entry::getKey, Map.Entry::getValue, HashMap::new);
        }

        /** Refuses over data unless told to drop; drops what it was told to; notes empty collections it will reuse. */
        private Mono<Void> clearTheWay(Map<String, Boolean> existing) {
            List<String> inTheWay = new ArrayList<>();
            List<PushPlan.Step> toDrop = new ArrayList<>();
            for (PushPlan.Step step : plan.steps) {
                boolean any = false;
                for (String name : step.targetNames()) {
                    Boolean nonEmpty = existing.get(step.db() + "." + name);
                    if (nonEmpty == null) {
                        continue;
                    }
                    any = true;
                    if (nonEmpty || step.kind() != PushPlan.Kind.COLLECTION) {
                        inTheWay.add(step.db() + "." + name);
                    }
                }
                if (any) {
                    toDrop.add(step);
                }
            }
            if (!inTheWay.isEmpty() && !options.drop()) {
                return Mono.error(new ApiException(409, "the push target " + target + " already has data in "
                        + String.join(", ", inTheWay) + "; nothing was changed. Push with drop to replace them.",
                        new JsonObject().put("conflicts", new JsonArray(inTheWay))));
            }
            return Flux.fromIterable(toDrop).concatMap(step -> {
                if (!options.drop()) {
                    reused.add(step.ns());
                    return Mono.empty();
                }
                dropped.add(step.ns());
                // Dropping a time-series collection drops its buckets; a leftover buckets collection
                // without its view is dropped by name.
                return Flux.fromIterable(step.targetNames())
                        .concatMap(name -> Mono.from(db(step.db()).getCollection(name).drop()), 1)
                        .then();
            }, 1).then();
        }

        private Mono<Void> create(PushPlan.Step step) {
            if (reused.contains(step.ns())) {
                return Mono.empty();
            }
            return Mono.from(db(step.db()).runCommand(step.create()))
                    .onErrorMap(e -> new IllegalStateException("creating " + step.ns() + " in " + target + " failed: "
                            + e.getMessage() + " (command " + step.create().toJson() + ")", e))
                    .then();
        }

        private Mono<Void> fill(PushPlan.Step step) {
            var collection = db(step.db()).getCollection(step.dataCollection(), RawBsonDocument.class);
            String ns = step.db() + "." + step.dataCollection();
            InsertManyOptions unordered = new InsertManyOptions().ordered(false);
            return batches(documents(step))
                    .flatMap(batch -> Mono.from(collection.insertMany(batch, unordered))
                            .onErrorMap(MongoBulkWriteException.class, e -> new IllegalStateException("inserting into " + ns
                                    + " in " + target + " failed: " + e.getWriteErrors().size() + " documents refused, first: "
                                    + (e.getWriteErrors().isEmpty() ? e.getMessage() : e.getWriteErrors().get(0).getMessage()), e))
                            .doOnSuccess(r -> {
                                long batchBytes = 0;
                                for (RawBsonDocument d : batch) {
                                    batchBytes += d.getByteBuffer().remaining();
                                }
                                progress.update(ns, bytes.addAndGet(batchBytes), documents.addAndGet(batch.size()));
                            }), options.batchesInFlight(), 1)
                    .then();
        }

        /** The source's buffers cut back into documents, each copied out of the buffer it came in. */
        private Flux<RawBsonDocument> documents(PushPlan.Step step) {
            return Flux.defer(() -> {
                List<RawBsonDocument> cut = new ArrayList<>();
                DocumentFramer framer = new DocumentFramer((b, off, len) -> cut.add(new RawBsonDocument(Arrays.copyOfRange(b, off, off + len))));
                return source.documents(step.source())
                        .concatMapIterable(buffer -> {
                            cut.clear();
                            framer.feed(buffer);
                            return new ArrayList<>(cut);
                        }, 1)
                        .concatWith(Mono.fromRunnable(framer::finish));
            });
        }

        /** Consecutive documents grouped up to the batch limits (a batch ends after the document that reaches one). */
        private Flux<List<RawBsonDocument>> batches(Flux<RawBsonDocument> docs) {
            return Flux.defer(() -> {
                long[] size = new long[2];
                return docs.bufferUntil(d -> {
                    size[0] += d.getByteBuffer().remaining();
                    size[1]++;
                    if (size[0] >= options.batchBytes() || size[1] >= options.batchDocuments()) {
                        size[0] = 0;
                        size[1] = 0;
                        return true;
                    }
                    return false;
                });
            });
        }

        private Mono<Void> createIndexes(PushPlan.Step step) {
            if (step.indexes().isEmpty()) {
                return Mono.empty();
            }
            BsonDocument command = new BsonDocument("createIndexes", new BsonString(step.dataCollection()))
                    .append("indexes", new BsonArray(new ArrayList<>(step.indexes())));
            return Mono.from(db(step.db()).runCommand(command, Document.class))
                    .onErrorMap(e -> new IllegalStateException("creating the indexes of " + step.ns() + " in " + target
                            + " failed: " + e.getMessage(), e))
                    .doOnSuccess(r -> indexes.addAndGet(step.indexes().size()))
                    .then();
        }

        private PushSummary summary() {
            List<String> collections = new ArrayList<>();
            List<String> views = new ArrayList<>();
            for (PushPlan.Step s : plan.steps) {
                (s.kind() == PushPlan.Kind.VIEW ? views : collections).add(s.ns());
            }
            Duration took = Duration.ofNanos(System.nanoTime() - began);
            LOG.info("pushed the restore at {} into {}: {} collections, {} views, {} documents ({} bytes), {} indexes in {} s",
                    source.ts(), target, collections.size(), views.size(), documents.get(), bytes.get(), indexes.get(),
                    took.toSeconds());
            return new PushSummary(target, source.ts(), collections, views, List.copyOf(dropped), List.copyOf(reused),
                    List.copyOf(plan.skipped), documents.get(), bytes.get(), indexes.get(), took);
        }
    }

    /** A URI without its password, for messages and logs. */
    static String redact(String uri) {
        return uri.replaceAll("//[^@/]*@", "//***@");
    }
}
