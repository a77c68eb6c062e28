package io.tidemark.shared.store;

import com.mongodb.ConnectionString;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.security.ApiKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.MongoClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
                ? vertx.executeBlocking(() -> EmbeddedMongo.durable(config.dataPath().resolve("store"), m.embeddedPort()))
                : Future.succeededFuture(null);
        // Creating the clients and subscribing the first commands loads and initialises most of
        // both drivers: seconds of class loading on a cold JVM, so on a worker, not the event loop.
        return embedded.compose(e -> vertx.executeBlocking(() -> {
            String metadataUri = e != null ? e.uri() : m.metadataUri().isBlank() ? m.blockstoreUri() : m.metadataUri();
            String blockstoreUri = e != null ? e.uri() : m.blockstoreUri().isBlank() ? m.metadataUri() : m.blockstoreUri();
            boolean majority = e == null;
            LOG.info("metadata DB: {}; blockstore DB: {}", redact(metadataUri, e), redact(blockstoreUri, e));
            MongoClient metadata = MongoClient.createShared(vertx, new JsonObject()
                    .put("connection_string", withMajority(metadataUri, majority))
                    .put("db_name", dbName(metadataUri, DEFAULT_METADATA_DB)), "tidemark-metadata-" + metadataUri);
            BlockstoreDb blockstore = new BlockstoreDb(blockstoreUri, dbName(blockstoreUri, DEFAULT_BLOCKSTORE_DB), majority);
            Stores stores = new Stores(e, metadata, blockstore);
            return Map.entry(stores, blockstore.init().toFuture());
        })).compose(opened -> Future.fromCompletionStage(opened.getValue(), vertx.getOrCreateContext())
                .map(v -> opened.getKey())
                .onFailure(err -> opened.getKey().close()));
    }

    private static String dbName(String uri, String fallback) {
        String db = new ConnectionString(uri).getDatabase();
        return db == null || db.isBlank() ? fallback : db;
    }

    /** Acknowledged means durable on a majority; a URI's own {@code w} wins if the operator set one. */
    private static String withMajority(String uri, boolean majority) {
        if (!majority || uri.contains("w=")) {
            return uri;
        }
        return uri + (uri.contains("?") ? "&" : (uri.substring("mongodb://".length()).contains("/") ? "?" : "/?")) + "w=majority&journal=true";
    }

    private static String redact(String uri, EmbeddedMongo embedded) {
        if (embedded != null) {
            return "embedded (" + uri + ")";
        }
        return uri.replaceAll("//[^@/]*@", "//***@");
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

    @Override
    public void close() {
        metadata.close();
        blockstore.close();
        if (embedded != null) {
            embedded.close();
        }
    }
}
