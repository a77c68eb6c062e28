package io.tidemark.agent;

import io.tidemark.shared.security.TlsEngines;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.util.Futures;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.TrustOptions;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The agent's side of the agent protocol (docs/agent-protocol.md), over HTTPS. */
public final class IngestClient implements AutoCloseable {

    public static final String VERSION = "0.1.0";
    private static final String BSON = "application/bson";

    /** How many times a request refused for lack of budget is resent: minutes of waiting at most. */
    private static final int MAX_BUSY_RETRIES = 100;
    /** The request's own timeout (120 s) and then some: the outer bound on one send. */
    private static final long REQUEST_DEADLINE_MILLIS = 130_000;
    private static final long MAX_RETRY_AFTER_SECONDS = 30;

    private final Vertx vertx;
    private final HttpClient http;
    /** The front ends, taken in turn (see {@link #base()}). */
    private final List<URI> bases;
    private final AtomicInteger turn = new AtomicInteger();
    private final String apiKey;

    /**
     * Trusts the server by pinned certificate fingerprint when one is given, else by CA file, else
     * by the JVM's trust store. Host names are verified except under a pin, where the pin is the identity.
     *
     * @param serverUrl one Backup HTTP service URL, or several separated by commas (front ends of
     *     one service sharing one store, docs/scale-out.md): requests go to each in turn, so a
     *     request that failed on one is resent (by its caller's retry) to the next
     */
    public IngestClient(Vertx vertx, String serverUrl, String apiKey, String pinSha256, Path caFile) {
        this.bases = Arrays.stream(serverUrl.split(",")).map(String::trim).filter(u -> !u.isEmpty())
                .map(u -> URI.create(u.endsWith("/") ? u.substring(0, u.length() - 1) : u)).toList();
        if (bases.isEmpty()) {
            throw new IllegalArgumentException("no Backup HTTP service URL given");
        }
        for (URI base : bases) {
            if (!"https".equals(base.getScheme())) {
                throw new IllegalArgumentException("the Backup HTTP service is reached over https, not " + base);
            }
        }
        this.apiKey = apiKey;
        this.vertx = vertx;
        HttpClientOptions options = new HttpClientOptions().setSsl(true).setSslEngineOptions(TlsEngines.preferred()).setKeepAlive(true)
                .setConnectTimeout(10_000).setIdleTimeout(120);
        if (pinSha256 != null && !pinSha256.isBlank()) {
            options.setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(pinSha256))).setVerifyHost(false);
        } else if (caFile != null) {
            options.setTrustOptions(new PemTrustOptions().addCertPath(caFile.toString())).setVerifyHost(true);
        } else {
            options.setVerifyHost(true);
        }
        this.http = vertx.createHttpClient(options, new io.vertx.core.http.PoolOptions().setHttp1MaxSize(4));
    }

    public Future<JsonObject> register(String deployment, String hostname) {
        return json(HttpMethod.POST, "/agent/v1/register", new JsonObject().put("deployment", deployment)
                .put("agentVersion", VERSION).put("hostname", hostname));
    }

    public Future<JsonObject> heartbeat(String job, JsonObject status) {
        return json(HttpMethod.POST, jobPath(job) + "/heartbeat", status.copy().put("agentVersion", VERSION));
    }

    public Future<JsonObject> resyncRequired(String job, String reason) {
        return json(HttpMethod.POST, jobPath(job) + "/resync-required", new JsonObject().put("reason", reason));
    }

    public Future<Long> beginSync(String job, OpTime startTs, OpTime fetchStartTs) {
        return beginSync(job, startTs, fetchStartTs, null);
    }

    /** Begins a sync; {@code fetchStartSha256} is the digest of the entry at {@code fetchStartTs}, if there is one. */
    public Future<Long> beginSync(String job, OpTime startTs, OpTime fetchStartTs, String fetchStartSha256) {
        JsonObject body = new JsonObject().put("startTs", startTs.toJson()).put("fetchStartTs", fetchStartTs.toJson());
        if (fetchStartSha256 != null) {
            body.put("fetchStartSha256", fetchStartSha256);
        }
        return json(HttpMethod.POST, jobPath(job) + "/sync/begin", body).map(r -> r.getLong("generation"));
    }

    public Future<Void> putCollection(String job, long gen, String ns, byte[] infoAndIndexes) {
        return bson(HttpMethod.PUT, jobPath(job) + "/sync/" + gen + "/collections/" + encode(ns), Buffer.buffer(infoAndIndexes))
                .mapEmpty();
    }

    public Future<Void> putSlice(String job, long gen, String ns, long seq, Buffer documents) {
        return bson(HttpMethod.PUT, jobPath(job) + "/sync/" + gen + "/slices/" + seq + "?ns=" + encode(ns), documents).mapEmpty();
    }

    public Future<JsonObject> endSync(String job, long gen, OpTime endTs, long documents, int collections) {
        return json(HttpMethod.POST, jobPath(job) + "/sync/" + gen + "/end", new JsonObject()
                .put("endTs", endTs.toJson()).put("documents", documents).put("collections", collections));
    }

    /** Sends entries that follow {@code prev}; completes with the acknowledged (durable) position. */
    public Future<OpTime> sendOplog(String job, OpTime prev, Buffer entries) {
        return bson(HttpMethod.POST, jobPath(job) + "/oplog?prev=" + prev, entries)
                .map(r -> OpTime.fromJson(r.getJsonObject("ackTs")));
    }

    private Future<JsonObject> json(HttpMethod method, String path, JsonObject body) {
        return send(method, path, "application/json", body.toBuffer());
    }

    private Future<JsonObject> bson(HttpMethod method, String path, Buffer body) {
        return send(method, path, BSON, body);
    }

    private Future<JsonObject> send(HttpMethod method, String path, String contentType, Buffer body) {
        return send(method, path, contentType, body, 0);
    }

    /**
     * Sends once more after a 503 with {@code Retry-After} (the service had no budget for the body
     * and did not read it, so resending is always safe), waiting as told plus jitter so that agents
     * refused together do not come back together; bounded, after which the 503 is an error like any other.
     */
    private Future<JsonObject> send(HttpMethod method, String path, String contentType, Buffer body, int busyRetries) {
        RequestOptions options = new RequestOptions().setMethod(method).setAbsoluteURI(base() + path)
                .putHeader("Authorization", "Bearer " + apiKey).putHeader("Content-Type", contentType)
                .setTimeout(120_000);
        // Bounded as a whole too: the request's own timeouts cover a silent server, not every way a
        // pooled connection can be lost; a failed send is retried, and every ingest call is idempotent.
        return Futures.within(http.request(options).compose(req -> req.send(body)), REQUEST_DEADLINE_MILLIS,
                        method + " " + path.replaceAll("\\?.*", ""))
                .compose(resp -> resp.body().compose(b -> {
                    String retryAfter = resp.getHeader("Retry-After");
                    if (resp.statusCode() == 503 && retryAfter != null && busyRetries < MAX_BUSY_RETRIES) {
                        return vertx.timer(busyDelayMillis(retryAfter))
                                .compose(t -> send(method, path, contentType, body, busyRetries + 1));
                    }
                    return Future.succeededFuture(outcome(method, path, resp.statusCode(), b));
                }));
    }

    private static JsonObject outcome(HttpMethod method, String path, int status, Buffer b) {
        JsonObject json;
        try {
            json = b.length() == 0 ? new JsonObject() : b.toJsonObject();
        } catch (RuntimeException e) {
            json = new JsonObject().put("error", b.toString());
        }
        if (status >= 400 && status < 500) {
            throw new IngestRejection(status, json, method + " " + path.replaceAll("\\?.*", ""));
        }
        if (status >= 300) {
            throw new IllegalStateException(method + " " + path + " failed with " + status + ": "
                    + json.getString("error", json.encode()));
        }
        return json;
    }

    /** Retry-After in seconds, clamped to 1..30, plus up to half of it again at random. */
    static long busyDelayMillis(String retryAfter) {
        long seconds;
        try {
            seconds = Long.parseLong(retryAfter.trim());
        } catch (NumberFormatException e) {
            seconds = 1; // an HTTP date, or nonsense: the shortest wait
        }
        long millis = Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, seconds)) * 1000L;
        return millis + java.util.concurrent.ThreadLocalRandom.current().nextLong(millis / 2 + 1);
    }

    /**
     * The front end for the next request: each in turn. Every front end serves every agent from
     * the shared store, so which one gets a request never matters for correctness; taking turns
     * spreads the load and moves past a front end that is down at the next retry.
     */
    private URI base() {
        return bases.get(Math.floorMod(turn.getAndIncrement(), bases.size()));
    }

    private static String jobPath(String job) {
        return "/agent/v1/jobs/" + encode(job);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public void close() {
        http.close();
    }
}
