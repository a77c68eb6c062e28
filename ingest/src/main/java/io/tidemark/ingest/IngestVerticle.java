package io.tidemark.ingest;

import io.tidemark.shared.security.TlsEngines;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.BearerAuth;
import io.tidemark.shared.http.RequestDeadlines;
import io.tidemark.shared.http.ErrorResponses;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.security.ApiKeys;
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

import java.util.Set;

/**
 * The Backup HTTP service: agents register, send initial-sync slices and oplog batches, and get
 * acknowledgements once data is durable. HTTPS only; every route needs an agent API key.
 */
public final class IngestVerticle extends VerticleBase {

    public static final String AGENT_VERSION_HEADER = "X-Tidemark-Agent-Version";
    public static final String BSON = "application/bson";

    private final TidemarkConfig config;
    private final Stores stores;
    private final SelfSignedTls.Material tls;
    /** JSON bodies are small; only BSON data may be as large as ingest.maxBodyBytes. */
    private static final long JSON_BODY_LIMIT = 1024 * 1024;

    private HttpServer server;
    private RequestDeadlines deadlines;

    public IngestVerticle(TidemarkConfig config, Stores stores, SelfSignedTls.Material tls) {
        this.config = config;
        this.stores = stores;
        this.tls = tls;
    }

    @Override
    public Future<?> start() {
        IngestMetrics metrics = new IngestMetrics(Metrics.registry());
        JobSerializer serializer = new JobSerializer();
        OplogIntake oplog = new OplogIntake(vertx, context, stores, metrics, serializer);
        SyncIntake sync = new SyncIntake(vertx, context, stores, metrics, serializer, oplog);
        AgentScope scope = new AgentScope(stores);
        AgentRegistry agents = new AgentRegistry(vertx, stores, oplog, metrics, scope);

        IngestBudget budget = new IngestBudget(config.ingest().maxBytesInFlight(), config.ingest().maxBodyBytes(),
                metrics, Metrics.registry());
        BodyHandler bsonBodies = BodyHandler.create(false).setBodyLimit(config.ingest().maxBodyBytes());
        BodyHandler jsonBodies = BodyHandler.create(false).setBodyLimit(Math.min(JSON_BODY_LIMIT, config.ingest().maxBodyBytes()));

        // The order matters: authenticate from the headers (the request paused), then take the
        // body's bytes from the budget, and only then read the body.
        Router router = Router.router(vertx);
        router.route("/agent/v1/*").handler(BearerAuth.handler(stores.keys(), ApiKeys.Kind.AGENT, "an agent API key",
                () -> metrics.rejected("auth")));
        router.route("/agent/v1/jobs/:job/*").handler(scope::checkJob);
        router.route("/agent/v1/*").handler(budget);
        router.route("/agent/v1/*").handler(ctx -> (isBson(ctx) ? bsonBodies : jsonBodies).handle(ctx));

        router.post("/agent/v1/register").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("deployment", "agentVersion", "hostname"));
            reply(ctx, agents.register(ctx, JsonBodies.requireString(body, "deployment", 128), AgentStatus.validated(body)));
        });
        router.post("/agent/v1/jobs/:job/heartbeat").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("agentVersion", "hostname", "state", "lagSeconds", "sourceTs"));
            reply(ctx, agents.heartbeat(ctx.pathParam("job"), AgentStatus.validated(body)));
        });
        router.post("/agent/v1/jobs/:job/resync-required").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("reason"));
            reply(ctx, agents.resyncRequired(ctx.pathParam("job"), JsonBodies.requireString(body, "reason", AgentStatus.MAX_REASON)));
        });
        router.post("/agent/v1/jobs/:job/sync/begin").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("startTs", "fetchStartTs", "fetchStartSha256"));
            Object sha = body.getValue("fetchStartSha256");
            if (sha != null && !(sha instanceof String s && s.matches("[0-9a-f]{64}"))) {
                throw ApiException.badRequest("'fetchStartSha256' must be 64 lower-case hex digits");
            }
            reply(ctx, sync.begin(ctx.pathParam("job"), AgentStatus.position(body, "startTs"),
                    AgentStatus.position(body, "fetchStartTs"), (String) sha));
        });
        router.put("/agent/v1/jobs/:job/sync/:gen/collections/:ns").handler(ctx -> {
            requireBson(ctx);
            reply(ctx, sync.collection(ctx.pathParam("job"), longParam(ctx, "gen"), ctx.pathParam("ns"), bytes(ctx))
                    .map(v -> new JsonObject().put("stored", true)));
        });
        router.put("/agent/v1/jobs/:job/sync/:gen/slices/:seq").handler(ctx -> {
            requireBson(ctx);
            String ns = ctx.queryParams().get("ns");
            reply(ctx, sync.slice(ctx.pathParam("job"), longParam(ctx, "gen"), ns, longParam(ctx, "seq"), bytes(ctx))
                    .map(n -> new JsonObject().put("documents", n)));
        });
        router.post("/agent/v1/jobs/:job/sync/:gen/end").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("endTs", "documents", "collections"));
            Long documents = JsonBodies.optionalWholeNumber(body, "documents", 0, Long.MAX_VALUE);
            if (documents == null) {
                throw ApiException.badRequest("'documents' (the number of documents copied) is required");
            }
            JsonBodies.optionalWholeNumber(body, "collections", 0, Integer.MAX_VALUE);
            reply(ctx, sync.end(ctx.pathParam("job"), longParam(ctx, "gen"), AgentStatus.position(body, "endTs"), documents));
        });
        router.post("/agent/v1/jobs/:job/oplog").handler(ctx -> {
            requireBson(ctx);
            String prev = ctx.queryParams().get("prev");
            if (prev == null) {
                throw ApiException.badRequest("query parameter 'prev' (the position this batch follows, T:I) is required");
            }
            long arrived = System.nanoTime();
            reply(ctx, oplog.accept(ctx.pathParam("job"), AgentStatus.position(prev, "prev"), bytes(ctx), arrived)
                    .map(ack -> new JsonObject().put("ackTs", ack.toJson())));
        });
        router.route().failureHandler(ErrorResponses::handle);
        router.route().last().handler(ctx -> ctx.fail(404));
        deadlines = new RequestDeadlines(vertx, config.ingest().requestIdleSeconds() * 1000L);

        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.ingest().host())
                .setPort(config.ingest().port())
                .setSsl(true)
                .setSslEngineOptions(TlsEngines.preferred())
                .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certFile().toString()).setKeyPath(tls.keyFile().toString()))
                .setCompressionSupported(false);
        return vertx.createHttpServer(options).connectionHandler(deadlines::track).requestHandler(deadlines.wrap(router)).listen()
                .recover(e -> Future.failedFuture(new IllegalStateException("the Backup HTTP service cannot listen on "
                        + options.getHost() + ":" + options.getPort() + " (ingest.port): " + e.getMessage(), e)))
                .onSuccess(s -> server = s);
    }

    /** The port actually bound (differs from the configured one when that is 0). */
    public int port() {
        return server.actualPort();
    }

    @Override
    public Future<?> stop() {
        if (deadlines != null) {
            deadlines.stop();
        }
        return Future.succeededFuture();
    }

    private static boolean isBson(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        return type != null && type.startsWith(BSON);
    }

    private static void requireBson(RoutingContext ctx) {
        if (!isBson(ctx)) {
            throw new ApiException(415, "the body must be " + BSON + " (concatenated BSON documents)");
        }
    }

    private static byte[] bytes(RoutingContext ctx) {
        return ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    }

    private static long longParam(RoutingContext ctx, String name) {
        try {
            return Long.parseLong(ctx.pathParam(name));
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("'" + name + "' must be a whole number");
        }
    }

    private static void reply(RoutingContext ctx, Future<JsonObject> result) {
        result.onSuccess(json -> ctx.response().putHeader("Content-Type", "application/json").end(json.encode()))
                .onFailure(ctx::fail);
    }
}
