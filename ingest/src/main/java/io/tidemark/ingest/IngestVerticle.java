package io.tidemark.ingest;

import io.tidemark.shared.security.TlsEngines;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.http.ErrorResponses;
import io.tidemark.shared.http.JsonBodies;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.oplog.OpTime;
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
    private HttpServer server;

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

        Router router = Router.router(vertx);
        router.route().handler(BodyHandler.create(false).setBodyLimit(config.ingest().maxBodyBytes()));
        router.route("/agent/v1/*").handler(ctx -> authenticate(ctx, metrics));
        router.route("/agent/v1/jobs/:job/*").handler(scope::checkJob);

        router.post("/agent/v1/register").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("deployment", "agentVersion", "hostname"));
            reply(ctx, agents.register(ctx, JsonBodies.requireString(body, "deployment"), body));
        });
        router.post("/agent/v1/jobs/:job/heartbeat").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("agentVersion", "hostname", "state", "lagSeconds", "sourceTs"));
            reply(ctx, agents.heartbeat(ctx.pathParam("job"), body));
        });
        router.post("/agent/v1/jobs/:job/resync-required").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("reason"));
            reply(ctx, agents.resyncRequired(ctx.pathParam("job"), JsonBodies.requireString(body, "reason")));
        });
        router.post("/agent/v1/jobs/:job/sync/begin").handler(ctx -> {
            JsonObject body = JsonBodies.read(ctx, Set.of("startTs", "fetchStartTs", "fetchStartSha256"));
            Object sha = body.getValue("fetchStartSha256");
            if (sha != null && !(sha instanceof String s && s.matches("[0-9a-f]{64}"))) {
                throw ApiException.badRequest("'fetchStartSha256' must be 64 lower-case hex digits");
            }
            reply(ctx, sync.begin(ctx.pathParam("job"), AgentRegistry.requirePosition(body, "startTs"),
                    AgentRegistry.requirePosition(body, "fetchStartTs"), (String) sha));
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
            Object documents = body.getValue("documents");
            if (!(documents instanceof Number)) {
                throw ApiException.badRequest("'documents' (the number of documents copied) is required");
            }
            reply(ctx, sync.end(ctx.pathParam("job"), longParam(ctx, "gen"), AgentRegistry.requirePosition(body, "endTs"),
                    ((Number) documents).longValue()));
        });
        router.post("/agent/v1/jobs/:job/oplog").handler(ctx -> {
            requireBson(ctx);
            String prev = ctx.queryParams().get("prev");
            if (prev == null) {
                throw ApiException.badRequest("query parameter 'prev' (the position this batch follows, T:I) is required");
            }
            long arrived = System.nanoTime();
            reply(ctx, oplog.accept(ctx.pathParam("job"), OpTime.parse(prev), bytes(ctx), arrived)
                    .map(ack -> new JsonObject().put("ackTs", ack.toJson())));
        });
        router.route().failureHandler(ErrorResponses::handle);
        router.route().last().handler(ctx -> ctx.fail(404));

        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.ingest().host())
                .setPort(config.ingest().port())
                .setSsl(true)
                .setSslEngineOptions(TlsEngines.preferred())
                .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certFile().toString()).setKeyPath(tls.keyFile().toString()))
                .setCompressionSupported(false);
        return vertx.createHttpServer(options).requestHandler(router).listen()
                .recover(e -> Future.failedFuture(new IllegalStateException("the Backup HTTP service cannot listen on "
                        + options.getHost() + ":" + options.getPort() + " (ingest.port): " + e.getMessage(), e)))
                .onSuccess(s -> server = s);
    }

    /** The port actually bound (differs from the configured one when that is 0). */
    public int port() {
        return server.actualPort();
    }

    private void authenticate(RoutingContext ctx, IngestMetrics metrics) {
        String header = ctx.request().getHeader("Authorization");
        String token = header != null && header.startsWith("Bearer ") ? header.substring(7).trim() : null;
        if (token == null) {
            metrics.rejected("auth");
            ctx.fail(new io.tidemark.shared.security.AuthenticationException("an agent API key is required (Authorization: Bearer <key>)"));
            return;
        }
        stores.keys().authenticate(token, ApiKeys.Kind.AGENT).onComplete(ar -> {
            if (ar.succeeded()) {
                ctx.put("principal", ar.result());
                ctx.next();
            } else {
                metrics.rejected("auth");
                ctx.fail(ar.cause());
            }
        });
    }

    private static void requireBson(RoutingContext ctx) {
        String type = ctx.request().getHeader("Content-Type");
        if (type == null || !type.startsWith(BSON)) {
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
