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
        return open(vertx, config, true);
    }

    /**
     * @param runEmbedded with no URIs configured, whether this process runs the embedded store
     *     ({@code tidemark server}) or joins the one a {@code server} process runs at the fixed
     *     {@code mongodb.embeddedPort}, with the secret from that server's data dir
     *     ({@code mongodb.embeddedDataDir}), as a separate front end or daemon does
     */
    public static Future<Stores> open(Vertx vertx, TidemarkConfig config, boolean runEmbedded) {
        TidemarkConfig.Mongodb m = config.mongodb();
        boolean joining = m.embedded() && !runEmbedded;
        if (joining && m.embeddedPort() == 0) {
            return Future.failedFuture(new IllegalStateException("a front end or daemon process with no mongodb.metadataUri "
                    + "joins the embedded store of a 'tidemark server' process: set mongodb.embeddedPort (fixed, the same in both) "
                    + "and mongodb.embeddedDataDir (that server's data dir), or point mongodb.metadataUri and "
                    + "mongodb.blockstoreUri at replica sets"));
        }
        Future<EmbeddedMongo> embedded = m.embedded() && runEmbedded
                ? vertx.executeBlocking(() -> {
                    OwnerOnly.directory(config.dataPath());
                    return EmbeddedMongo.durable(embeddedDir(config.dataPath()), m.embeddedPort());
                })
                : Future.succeededFuture(null);
        // Creating the clients and subscribing the first commands loads and initialises most of
        // both drivers: seconds of class loading on a cold JVM, so on a worker, not the event loop.
        return embedded.compose(e -> vertx.executeBlocking(() -> {
            // The secret is read from the server's data dir into a driver credential, never into a URI.
            StoreConnection joined = joining ? StoreConnection.of("mongodb://127.0.0.1:" + m.embeddedPort(), false,
                    EmbeddedMongo.credential(embeddedDir(m.embeddedDataPath(config.dataPath())))) : null;
            StoreConnection metadataAt = e != null ? embeddedConnection(e) : joined != null ? joined
                    : StoreConnection.of(m.metadataUri().isBlank() ? m.blockstoreUri() : m.metadataUri(), true, null);
            StoreConnection blockstoreAt = e != null ? embeddedConnection(e) : joined != null ? joined
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
