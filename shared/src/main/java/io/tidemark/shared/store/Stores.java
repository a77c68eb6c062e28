package io.tidemark.shared.store;

import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.security.OwnerOnly;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.mongo.MongoClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.Map;

/**
 * The metadata DB and the blockstore DB, opened from the configuration: replica-set URIs in
 * production, otherwise the embedded store under {@code <dataDir>/store}. Everything above talks
 * to both through the same client code either way.
 */
public final class Stores implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Stores.class);
    static final String DEFAULT_METADATA_DB = "tidemark";
    static final String DEFAULT_BLOCKSTORE_DB = "tidemark_blockstore";

    private final EmbeddedMongo embedded;
    private final MongoClient metadata;
    private final BlockstoreDb blockstore;
    private final JobStore jobs;
    private final ApiKeys keys;

    private Stores(EmbeddedMongo embedded, MongoClient metadata, BlockstoreDb blockstore) {
        this.embedded = embedded;
        this.metadata = metadata;
        this.blockstore = blockstore;
        this.jobs = new JobStore(metadata);
        this.keys = new ApiKeys(metadata);
    }

    public static Future<Stores> open(Vertx vertx, TidemarkConfig config) {
        TidemarkConfig.Mongodb m = config.mongodb();
        Future<EmbeddedMongo> embedded = m.embedded()
                ? vertx.executeBlocking(() -> {
                    OwnerOnly.directory(config.dataPath());
                    return EmbeddedMongo.durable(embeddedDir(config.dataPath()), m.embeddedPort());
                })
                : Future.succeededFuture(null);
        // Creating the clients and subscribing the first commands loads and initialises most of
        // both drivers: seconds of class loading on a cold JVM, so on a worker, not the event loop.
        return embedded.compose(e -> vertx.executeBlocking(() -> {
            StoreConnection metadataAt = e != null ? embeddedConnection(e)
                    : StoreConnection.of(m.metadataUri().isBlank() ? m.blockstoreUri() : m.metadataUri(), true, null);
            StoreConnection blockstoreAt = e != null ? embeddedConnection(e)
                    : StoreConnection.of(m.blockstoreUri().isBlank() ? m.metadataUri() : m.blockstoreUri(), true, null);
            LOG.info("metadata DB: {}; blockstore DB: {}", describe(metadataAt, e), describe(blockstoreAt, e));
            String metadataDb = metadataAt.database(DEFAULT_METADATA_DB);
            MongoClient metadata = MongoClient.createShared(vertx, metadataAt.vertxConfig(metadataDb),
                    "tidemark-metadata-" + metadataAt.uri().getConnectionString());
            BlockstoreDb blockstore = new BlockstoreDb(blockstoreAt, blockstoreAt.database(DEFAULT_BLOCKSTORE_DB));
            Stores stores = new Stores(e, metadata, blockstore);
            return Map.entry(stores, blockstore.init().toFuture());
        })).compose(opened -> Future.fromCompletionStage(opened.getValue(), vertx.getOrCreateContext())
                .map(v -> opened.getKey())
                .onFailure(err -> opened.getKey().close()));
    }

    /** Where the embedded store keeps its files and its secret. */
    public static Path embeddedDir(Path dataDir) {
        return dataDir.resolve("store");
    }

    /**
     * The single-node embedded store: the driver's default acknowledgement, since the backend
     * makes every write durable before replying; the store's credential from its data dir.
     */
    private static StoreConnection embeddedConnection(EmbeddedMongo e) {
        return StoreConnection.of(e.uri(), false, e.credential());
    }

    private static String describe(StoreConnection at, EmbeddedMongo embedded) {
        return embedded != null ? "embedded (" + at + ", authenticated)" : at.toString();
    }

    public JobStore jobs() {
        return jobs;
    }

    public ApiKeys keys() {
        return keys;
    }

    public OplogStore oplog() {
        return blockstore.oplog();
    }

    public SyncStore sync() {
        return blockstore.sync();
    }

    public BlockstoreDb blockstore() {
        return blockstore;
    }

    public MongoClient metadata() {
        return metadata;
    }

    public boolean embedded() {
        return embedded != null;
    }

    /** Whether the embedded store's file has closed itself (a write failed): see {@link #reopenEmbedded()}. */
    public boolean embeddedClosed() {
        return embedded != null && embedded.closed();
    }

    /**
     * Opens the embedded store again after it closed itself; the clients reconnect. Blocking (on a
     * worker); for the storage health probe, once it can write again.
     */
    public void reopenEmbedded() {
        if (embedded != null) {
            embedded.reopen();
        }
    }

    /** Where the embedded store listens (tests): no credential in it. */
    String embeddedUri() {
        return embedded.uri();
    }

    @Override
    public void close() {
        metadata.close();
        blockstore.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
