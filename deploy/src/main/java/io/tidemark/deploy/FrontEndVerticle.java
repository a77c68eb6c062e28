package io.tidemark.deploy;

import io.tidemark.shared.security.TlsEngines;
import io.tidemark.applier.ApplierVerticle;
import io.tidemark.applier.HeadsApi;
import io.tidemark.groomer.GroomApi;
import io.tidemark.ingest.JobsApi;
import io.tidemark.restore.DownloadApi;
import io.tidemark.restore.RestoreService;
import io.tidemark.restore.RestoresApi;
import io.tidemark.snapshotter.SnapshotsApi;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.http.ErrorResponses;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.security.AuthenticationException;
import io.tidemark.shared.security.SelfSignedTls;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

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
    private HttpServer server;

    FrontEndVerticle(TidemarkConfig config, Stores stores, SelfSignedTls.Material tls, ApplierVerticle applier,
                     RestoreService restores) {
        this.config = config;
        this.stores = stores;
        this.tls = tls;
        this.applier = applier;
        this.restores = restores;
    }

    @Override
    public Future<?> start() {
        Router router = Router.router(vertx);
        router.get("/health").handler(ctx -> stores.metadata().runCommand("ping", new JsonObject().put("ping", 1))
                .onSuccess(r -> ctx.json(new JsonObject().put("status", "UP").put("store", stores.embedded() ? "embedded" : "external")))
                .onFailure(e -> ctx.response().setStatusCode(503).putHeader("Content-Type", "application/json")
                        .end(new JsonObject().put("status", "DOWN").put("error", e.getMessage()).encode())));
        router.get("/metrics").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(Metrics.registry().scrape()));

        Router api = Router.router(vertx);
        api.route().handler(BodyHandler.create(false).setBodyLimit(API_BODY_LIMIT));
        api.route().handler(this::authenticate);
        api.route("/*").subRouter(JobsApi.router(vertx, stores));
        api.route("/*").subRouter(KeysApi.router(vertx, stores));
        api.route("/*").subRouter(HeadsApi.router(vertx, stores, applier));
        api.route("/*").subRouter(SnapshotsApi.router(vertx, stores));
        api.route("/*").subRouter(GroomApi.router(vertx, stores));
        api.route("/*").subRouter(RestoresApi.router(vertx, restores));
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
        return vertx.createHttpServer(options).requestHandler(router).listen()
                .recover(e -> Future.failedFuture(new IllegalStateException("the REST API cannot listen on "
                        + options.getHost() + ":" + options.getPort() + " (api.port): " + e.getMessage(), e)))
                .onSuccess(s -> server = s);
    }

    int port() {
        return server.actualPort();
    }

    private void authenticate(RoutingContext ctx) {
        String header = ctx.request().getHeader("Authorization");
        if (header == null || !header.startsWith("Bearer ")) {
            ctx.fail(new AuthenticationException("an admin token is required (Authorization: Bearer <token>)"));
            return;
        }
        stores.keys().authenticate(header.substring(7).trim(), ApiKeys.Kind.ADMIN).onComplete(ar -> {
            if (ar.succeeded()) {
                ctx.next();
            } else {
                ctx.fail(ar.cause());
            }
        });
    }
}
