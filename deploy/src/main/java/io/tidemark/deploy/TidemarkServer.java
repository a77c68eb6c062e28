package io.tidemark.deploy;

import io.tidemark.applier.ApplierVerticle;
import io.tidemark.groomer.FencedBlockStore;
import io.tidemark.groomer.GroomerVerticle;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.snapshotter.SnapshotterVerticle;
import reactor.core.scheduler.Schedulers;
import io.tidemark.ingest.IngestVerticle;
import io.tidemark.restore.RestoreService;
import io.tidemark.restore.history.DocumentHistory;
import io.tidemark.restore.pit.PointInTimeRestores;
import io.tidemark.restore.rebuild.HeadRebuilds;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.OwnerOnly;
import io.tidemark.shared.security.SelfSignedTls;
import io.tidemark.shared.security.TlsEngines;
import io.tidemark.shared.storage.StorageHealth;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Clock;

/**
 * One Tidemark server process: opens the stores, makes sure credentials and TLS material exist,
 * and deploys the Backup HTTP service (8081) and the front end (8080).
 */
public final class TidemarkServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TidemarkServer.class);

    private final TidemarkConfig config;
    private final Vertx vertx;
    private Stores stores;
    private StorageHealth storage;
    private ApplierVerticle applier;
    /** The head rebuilds, once the block store they read is open. */
    private final reactor.core.publisher.Sinks.One<HeadRebuilds> rebuilds = reactor.core.publisher.Sinks.one();
    private BlockStore blocks;
    private RestoreService restores;
    private DocumentHistory history;
    private SelfSignedTls.Material ingestTls;
    private int ingestPort;
    private int apiPort;
    private boolean apiTls;

    private TidemarkServer(TidemarkConfig config, Vertx vertx) {
        this.config = config;
        this.vertx = vertx;
    }

    /** Starts a server; blocks the calling (non-event-loop) thread until it listens. */
    public static TidemarkServer start(TidemarkConfig config) {
        Vertx vertx;
        try {
            vertx = VertxFactory.create(new VertxOptions().setPreferNativeTransport(false), config.cluster())
                    .toCompletionStage().toCompletableFuture().get();
        } catch (Exception e) {
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("the server could not join its cluster: " + cause.getMessage(), cause);
        }
        TidemarkServer server = new TidemarkServer(config, vertx);
        try {
            server.deploy().toCompletionStage().toCompletableFuture().get();
        } catch (Exception e) {
            server.close();
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("the server could not start: " + cause.getMessage(), cause);
        }
        return server;
    }

    private Future<Void> deploy() {
        Path dataDir = config.dataPath();
        // First, before anything is written into it: owner-only (docs/security.md, "The data dir").
        return vertx.executeBlocking(() -> OwnerOnly.directory(dataDir)).compose(d -> Stores.open(vertx, config)).compose(s -> {
            stores = s;
            // From the start: /health, the snapshotter and the heads ask it, and it reopens the
            // embedded store after a full disk closed it.
            return StorageHealth.start(vertx, stores, config);
        }).compose(health -> {
            storage = health;
            return vertx.executeBlocking(() -> {
                ingestTls = tlsFor(config.ingest().tls(), dataDir);
                // Loads BoringSSL's native library here, on a worker, rather than in the first
                // verticle's start on an event loop.
                TlsEngines.description();
                return null;
            });
        }).compose(v -> Bootstrap.ensureCredentials(vertx, stores, dataDir)).compose(v -> {
            // A key revoked through any front end of the cluster: decided from the store from now on.
            vertx.eventBus().<JsonObject>consumer(Addresses.KEY_REVOKED, m -> stores.keys().forget(m.body().getString("id")));
            IngestVerticle ingest = new IngestVerticle(config, stores, ingestTls);
            return vertx.deployVerticle(ingest).map(id -> ingest);
        }).compose(ingest -> {
            ingestPort = ingest.port();
            // A head whose sync data is gone (a lost head, a job moved here) is rebuilt from the job's
            // latest snapshot plus the oplog store; that needs the block store, opened just below.
            applier = new ApplierVerticle(config, stores)
                    .rebuildingWith((job, dir) -> rebuilds.asMono().flatMap(r -> r.rebuild(job, dir)));
            // Heads do blocking RocksDB work on their own threads; the verticle only coordinates.
            return vertx.deployVerticle(applier).map(id -> ingest);
        }).compose(ingest -> vertx.executeBlocking(() -> {
            // Snapshots and grooms share one fenced store: a sweep never deletes a block that a
            // running snapshot has just found and is about to reference. Opening the store reads
            // its directory and pack indexes, and the fence allocates its filter: on a worker.
            blocks = FencedBlockStore.wrap(BlockStores.open(config, stores, Schedulers.boundedElastic()));
            PointInTimeRestores pointInTime = new PointInTimeRestores(config, stores, blocks);
            restores = RestoreService.create(config, stores, blocks, pointInTime);
            history = DocumentHistory.create(stores, blocks, pointInTime.windows());
            rebuilds.tryEmitValue(new HeadRebuilds(stores, blocks));
            return ingest;
        })).compose(ingest -> vertx.deployVerticle(new SnapshotterVerticle(config, stores, applier, blocks))
                .compose(id -> vertx.deployVerticle(new GroomerVerticle(config, stores, blocks, Clock.systemUTC())))
                .compose(id -> restores.createIndexes())
                .map(id -> ingest)
        ).compose(ingest -> {
            apiTls = config.api().tls().enabled();
            // Reading (or on first start generating) certificates is file I/O: on a worker.
            return vertx.executeBlocking(() -> apiTls ? tlsFor(config.api().tls().files(), dataDir) : null);
        }).compose(tls -> {
            FrontEndVerticle front = new FrontEndVerticle(config, stores, tls, applier, restores, history);
            return vertx.deployVerticle(front).map(id -> front);
        }).compose(front -> {
            apiPort = front.port();
            JsonObject endpoints = new JsonObject()
                    .put("apiUrl", (apiTls ? "https" : "http") + "://127.0.0.1:" + apiPort)
                    .put("ingestUrl", "https://127.0.0.1:" + ingestPort)
                    .put("certificateFile", ingestTls.certFile().toString())
                    .put("certificateSha256", ingestTls.sha256());
            return vertx.executeBlocking(() -> {
                CredentialsFile.updateEndpoints(dataDir, endpoints);
                return null;
            });
        }).map(v -> {
            LOG.info("Tidemark server up: REST API {}://127.0.0.1:{}/api/v1, Backup HTTP service https://127.0.0.1:{}, data dir {}{}; TLS by {}{}",
                    apiTls ? "https" : "http", apiPort, ingestPort, dataDir, stores.embedded() ? " (embedded store)" : "",
                    TlsEngines.description(), config.cluster().enabled()
                            ? "; event bus clustered as '" + config.cluster().name() + "' on " + config.cluster().host() + ":" + config.cluster().port()
                            : "");
            return null;
        });
    }

    private static SelfSignedTls.Material tlsFor(TidemarkConfig.Tls files, Path dataDir) {
        if (files.configured()) {
            Path cert = Path.of(files.certFile());
            return new SelfSignedTls.Material(cert, Path.of(files.keyFile()), SelfSignedTls.fingerprint(cert));
        }
        return SelfSignedTls.ensure(dataDir.resolve("tls"));
    }

    public Vertx vertx() {
        return vertx;
    }

    public Stores stores() {
        return stores;
    }

    /** The block store snapshots are written to. */
    public BlockStore blocks() {
        return blocks;
    }

    /** The heads this server keeps. */
    public ApplierVerticle heads() {
        return applier;
    }

    public TidemarkConfig config() {
        return config;
    }

    public int ingestPort() {
        return ingestPort;
    }

    public int apiPort() {
        return apiPort;
    }

    public String ingestUrl() {
        return "https://127.0.0.1:" + ingestPort;
    }

    public String apiUrl() {
        return (apiTls ? "https" : "http") + "://127.0.0.1:" + apiPort;
    }

    public SelfSignedTls.Material ingestTls() {
        return ingestTls;
    }

    /** Whether the server can write, and where space runs low. */
    public StorageHealth storage() {
        return storage;
    }

    @Override
    public void close() {
        if (storage != null) {
            storage.close();
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get();
        } catch (Exception e) {
            LOG.warn("closing the server: {}", e.getMessage());
        }
        // After the verticles are gone, so no snapshot is writing; a restart in this JVM reopens the packs.
        if (blocks instanceof FencedBlockStore fenced && fenced.delegate() instanceof PackBlockStore packed) {
            packed.close();
        }
        if (stores != null) {
            stores.close();
        }
    }
}
