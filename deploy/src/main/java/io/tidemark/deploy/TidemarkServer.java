package io.tidemark.deploy;

import io.tidemark.applier.ApplierVerticle;
import io.tidemark.groomer.FencedBlockStore;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.blocks.PackBlockStore;
import reactor.core.scheduler.Schedulers;
import io.tidemark.ingest.IngestVerticle;
import io.tidemark.restore.RestoreService;
import io.tidemark.restore.history.DocumentHistory;
import io.tidemark.restore.pit.PointInTimeRestores;
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

/**
 * One Tidemark server process: opens the stores and deploys its roles: the daemon
 * ({@link DaemonRole}: heads, snapshots, grooms of the jobs bound to it) and the front end
 * (credentials and TLS material, the Backup HTTP service on 8081 and the REST API on 8080).
 * {@code tidemark server} runs both; {@code --roles} splits them (docs/scale-out.md).
 */
public final class TidemarkServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TidemarkServer.class);

    private final TidemarkConfig config;
    private final Roles roles;
    private final Vertx vertx;
    private Stores stores;
    private StorageHealth storage;
    private DaemonRole daemon;
    private BlockStore blocks;
    private RestoreService restores;
    private DocumentHistory history;
    private SelfSignedTls.Material ingestTls;
    private int ingestPort;
    private int apiPort;
    private boolean apiTls;

    /** Whether the clustered event bus runs TLS with the cluster's certificate. */
    private boolean busTls;

    private TidemarkServer(TidemarkConfig config, Roles roles, Vertx vertx) {
        this.config = config;
        this.roles = roles;
        this.vertx = vertx;
    }

    /** Starts a server with every role; blocks the calling (non-event-loop) thread until it listens. */
    public static TidemarkServer start(TidemarkConfig config) {
        return start(config, Roles.ALL);
    }

    /** Starts a server with {@code roles}; blocks the calling (non-event-loop) thread until it runs. */
    static TidemarkServer start(TidemarkConfig config, Roles roles) {
        Vertx vertx;
        TidemarkConfig.Cluster cluster = ClusterTls.resolve(config);
        try {
            vertx = VertxFactory.create(new VertxOptions().setPreferNativeTransport(false), cluster)
                    .toCompletionStage().toCompletableFuture().get();
        } catch (io.tidemark.shared.config.ConfigException e) {
            throw e;
        } catch (Exception e) {
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("the server could not join its cluster: " + cause.getMessage(), cause);
        }
        TidemarkServer server = new TidemarkServer(config, roles, vertx);
        server.busTls = cluster.tls();
        try {
            server.deploy().toCompletionStage().toCompletableFuture().get();
        } catch (Exception e) {
            server.close();
            Throwable cause = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
            throw new IllegalStateException("the server could not start: " + cause.getMessage(), cause);
        }
        return server;
    }

    /**
     * The store first, then the roles: the daemon (heads, snapshots, grooms of the jobs bound to
     * it) and the front end (Backup HTTP service, REST API). A process with both roles runs the
     * embedded store when no URI is set; one with a single role joins a server's store.
     */
    private Future<Void> deploy() {
        Path dataDir = config.dataPath();
        // Refused before anything is opened: one process's block files cannot serve several.
        SharedBlocks.requireShared(config, roles);
        // First, before anything is written into it: owner-only (docs/security.md, "The data dir").
        return vertx.executeBlocking(() -> OwnerOnly.directory(dataDir)).compose(d -> Stores.open(vertx, config, roles.all())).compose(s -> {
            stores = s;
            // From the start: /health, the snapshotter and the heads ask it, and it reopens the
            // embedded store after a full disk closed it.
            return StorageHealth.start(vertx, stores, config);
        }).compose(health -> {
            storage = health;
            // Before any block store is opened: the one every earlier snapshot was written to.
            return BlockStoreOfRecord.check(config, stores);
        }).compose(v -> {
            return roles.frontend() ? deployFrontEndStart() : Future.succeededFuture();
        }).compose(v -> roles.daemon() ? DaemonRole.start(vertx, config, stores).map(d -> {
            daemon = d;
            blocks = d.blocks();
            return (Void) null;
        }) : Future.succeededFuture()).compose(v -> roles.frontend() ? deployFrontEnd() : Future.succeededFuture()).map(v -> {
            LOG.info("Tidemark server up ({}){}: data dir {}{}; TLS by {}{}", roles,
                    roles.frontend() ? ": REST API " + apiUrl() + "/api/v1, Backup HTTP service " + ingestUrl() : "",
                    dataDir, stores.embedded() ? " (embedded store)" : "", TlsEngines.description(),
                    config.cluster().enabled()
                            ? "; event bus clustered as '" + config.cluster().name() + "' on " + config.cluster().host() + ":" + config.cluster().port()
                                    + (busTls ? " (TLS: members authenticated by the cluster's certificate)" : " (no TLS)")
                            : "");
            return null;
        });
    }

    /** TLS material, the first credentials, and the Backup HTTP service: agents can send at once. */
    private Future<Void> deployFrontEndStart() {
        Path dataDir = config.dataPath();
        return vertx.executeBlocking(() -> {
            ingestTls = tlsFor(config.ingest().tls(), dataDir);
            // Loads BoringSSL's native library here, on a worker, rather than in the first
            // verticle's start on an event loop.
            TlsEngines.description();
            return null;
        }).compose(v -> Bootstrap.ensureCredentials(vertx, stores, dataDir)).compose(v -> {
            // A key revoked through any front end of the cluster: decided from the store from now on.
            vertx.eventBus().<JsonObject>consumer(Addresses.KEY_REVOKED, m -> stores.keys().forget(m.body().getString("id")));
            IngestVerticle ingest = new IngestVerticle(config, stores, ingestTls);
            return vertx.deployVerticle(ingest).map(id -> {
                ingestPort = ingest.port();
                return null;
            });
        });
    }

    /** Restores and the REST API, with the daemon's heads when this process has them. */
    private Future<Void> deployFrontEnd() {
        Path dataDir = config.dataPath();
        return vertx.executeBlocking(() -> {
            if (blocks == null) {
                // A front end alone reads the blocks the daemons write (restores): the shared store.
                blocks = BlockStores.open(config, stores, Schedulers.boundedElastic());
            }
            PointInTimeRestores pointInTime = new PointInTimeRestores(config, stores, blocks);
            restores = RestoreService.create(config, stores, blocks, pointInTime);
            history = DocumentHistory.create(stores, blocks, pointInTime.windows());
            return null;
        }).compose(v -> restores.createIndexes()).compose(v -> {
            apiTls = config.api().tls().enabled();
            // Reading (or on first start generating) certificates is file I/O: on a worker.
            return vertx.executeBlocking(() -> apiTls ? tlsFor(config.api().tls().files(), dataDir) : null);
        }).compose(tls -> {
            FrontEndVerticle front = new FrontEndVerticle(config, stores, tls, daemon == null ? null : daemon.applier(), restores, history);
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

    /** The heads this server keeps; null in a process without the daemon role. */
    public ApplierVerticle heads() {
        return daemon == null ? null : daemon.applier();
    }

    /** This process's daemon id; null without the daemon role. */
    public String daemonId() {
        return daemon == null ? null : daemon.id();
    }

    Roles roles() {
        return roles;
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
        if (daemon != null) {
            daemon.stop();
        }
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
