package io.tidemark.deploy;

import io.tidemark.shared.security.TlsEngines;
import io.tidemark.applier.ApplierVerticle;
import io.tidemark.applier.HeadsApi;
import io.tidemark.groomer.GroomApi;
import io.tidemark.ingest.JobsApi;
import io.tidemark.restore.DownloadApi;
import io.tidemark.restore.RestoreService;
import io.tidemark.restore.RestoresApi;
import io.tidemark.restore.history.DocumentHistory;
import io.tidemark.restore.history.HistoryApi;
import io.tidemark.snapshotter.SnapshotsApi;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.http.BearerAuth;
import io.tidemark.shared.http.ErrorResponses;
import io.tidemark.shared.http.RequestDeadlines;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.security.SelfSignedTls;
import io.tidemark.shared.storage.StorageHealth;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The front end on 8080: the REST API under {@code /api/v1} (admin bearer token), Prometheus
 * {@code /metrics} and {@code /health}. Stateless, so several can stand behind a load balancer.
 */
final class FrontEndVerticle extends VerticleBase {

    private static final long API_BODY_LIMIT = 1024 * 1024;

    private final TidemarkConfig config;
    private final Stores stores;
    private final SelfSignedTls.Material tls;
    private final ApplierVerticle applier;
    private final RestoreService restores;
    private final DocumentHistory history;
    private static final Logger LOG = LoggerFactory.getLogger(FrontEndVerticle.class);

    private final HealthLog healthLog = new HealthLog();
    private HttpServer server;
    private RequestDeadlines deadlines;

    FrontEndVerticle(TidemarkConfig config, Stores stores, SelfSignedTls.Material tls, ApplierVerticle applier,
                     RestoreService restores, DocumentHistory history) {
        this.config = config;
        this.stores = stores;
        this.tls = tls;
        this.applier = applier;
        this.restores = restores;
        this.history = history;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.get("/health").handler(this::health);
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(Metrics.registry().scrape()));

        Router api = Router.router(vertx);
        // Authenticate from the headers first (the request paused), and only then read the body.
        api.route().handler(BearerAuth.handler(stores.keys(), ApiKeys.Kind.ADMIN, "an admin token", () -> { }));
        api.route().handler(BodyHandler.create(false).setBodyLimit(API_BODY_LIMIT));
        api.route("/*").subRouter(JobsApi.router(vertx, stores));
        api.route("/*").subRouter(KeysApi.router(vertx, stores));
        api.route("/*").subRouter(DaemonsApi.router(vertx, stores, config.daemons()));
        api.route("/*").subRouter(HeadsApi.router(vertx, stores, applier));
        api.route("/*").subRouter(SnapshotsApi.router(vertx, stores));
        api.route("/*").subRouter(GroomApi.router(vertx, stores));
        api.route("/*").subRouter(RestoresApi.router(vertx, restores));
        api.route("/*").subRouter(HistoryApi.router(vertx, history));
        api.route().failureHandler(ErrorResponses::handle);
        router.route("/api/v1/*").subRouter(api);
        // Downloads are not behind the admin token: the single-use link is the credential.
        router.route("/*").subRouter(DownloadApi.router(vertx, restores));
        router.route().failureHandler(ErrorResponses::handle);
        router.route().last().handler(ctx -> ctx.fail(404));

        HttpServerOptions options = new HttpServerOptions().setHost(config.api().host()).setPort(config.api().port())
                .setCompressionSupported(true);
        if (tls != null) {
            options.setSsl(true).setSslEngineOptions(TlsEngines.preferred()).setKeyCertOptions(new PemKeyCertOptions()
                    .setCertPath(tls.certFile().toString()).setKeyPath(tls.keyFile().toString()));
        }
        deadlines = new RequestDeadlines(vertx, config.api().requestIdleSeconds() * 1000L);
        return vertx.createHttpServer(options).connectionHandler(deadlines::track).requestHandler(deadlines.wrap(router)).listen()
                .recover(e -> Future.failedFuture(new IllegalStateException("the REST API cannot listen on "
                        + options.getHost() + ":" + options.getPort() + " (api.port): " + e.getMessage(), e)))
                .onSuccess(s -> server = s);
    }

    /**
     * UP when the metadata store answers and the storage takes writes; DOWN (503) with a short,
     * generic reason otherwise. Anyone may ask: the drivers' text (hosts, users, internals) stays
     * in the log.
     */
    private void health(io.vertx.ext.web.RoutingContext ctx) {
        StorageHealth.Status storage = StorageHealth.of(vertx).map(StorageHealth::status).orElse(null);
        if (storage != null && !storage.up()) {
            down(ctx, storage.reasons().get(0), storage);
            return;
        }
        stores.metadata().runCommand("ping", new JsonObject().put("ping", 1))
                .onSuccess(r -> {
                    JsonObject up = new JsonObject().put("status", "UP").put("store", stores.embedded() ? "embedded" : "external");
                    if (storage != null && !storage.lowSpace().isEmpty()) {
                        up.put("lowSpace", new io.vertx.core.json.JsonArray(storage.lowSpace()));
                    }
                    ctx.json(up);
                })
                .onFailure(e -> {
                    healthLog.failed(e);
                    down(ctx, "the metadata store is unreachable", storage);
                });
    }

    private static void down(io.vertx.ext.web.RoutingContext ctx, String reason, StorageHealth.Status storage) {
        JsonObject body = new JsonObject().put("status", "DOWN").put("error", reason);
        if (storage != null) {
            body.put("reasons", new io.vertx.core.json.JsonArray(storage.reasons())).put("lowSpace",
                    new io.vertx.core.json.JsonArray(storage.lowSpace()));
        }
        ctx.response().setStatusCode(503).putHeader("Content-Type", "application/json").end(body.encode());
    }

    int port() {
        return server.actualPort();
    }

    @Override
    public Future<?> stop() {
        if (deadlines != null) {
            deadlines.stop();
        }
        return Future.succeededFuture();
    }

    /** Logs a failing health check with its cause, at most once a minute however often it is polled. */
    private static final class HealthLog {
        private long loggedAt;

        void failed(Throwable e) {
            long now = System.currentTimeMillis();
            if (now - loggedAt >= 60_000) {
                loggedAt = now;
                LOG.warn("health check: the metadata store did not answer a ping: {}", e.toString());
            }
        }
    }
}
