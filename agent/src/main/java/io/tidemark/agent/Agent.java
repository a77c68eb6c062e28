package io.tidemark.agent;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The backup agent: registers its deployment, runs an initial sync when the job needs one, then
 * follows the oplog, resuming after any failure from the position the service last acknowledged.
 * A session ends on error or when the service reports a state change (an operator's resync), and
 * the next session starts from a fresh registration.
 */
public final class Agent {

    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);

    private final Vertx vertx;
    private final AgentSettings settings;
    private final IngestClient client;
    private final SourceDeployment source;
    private final Sinks.Many<String> restarts = Sinks.many().multicast().directBestEffort();
    private final AtomicInteger failures = new AtomicInteger();
    private final String hostname = hostname();

    private volatile String job;
    /** What the current session runs: INITIAL_SYNC, ACTIVE, or the job state it idles in. */
    private volatile String running = "STARTING";
    private volatile OpTime acked;
    private volatile OpTime sourceLatest;
    private volatile long syncedDocuments;
    private Disposable loop;
    private Disposable progress = reactor.core.Disposables.disposed();
    private long heartbeatTimer = -1;

    public Agent(Vertx vertx, AgentSettings settings) {
        this.vertx = vertx;
        this.settings = settings;
        this.client = new IngestClient(vertx, settings.serverUrl(), settings.apiKey(), settings.pinSha256(), settings.caFile());
        this.source = new SourceDeployment(settings.sourceUri());
    }

    /** Starts the agent; completes once the source has been checked. */
    public Future<Void> start() {
        Mono<Void> session = Mono.defer(this::session)
                .onErrorResume(this::recover)
                .repeat()
                .then();
        return Future.fromCompletionStage(source.probe().toFuture()).map(v -> {
            LOG.info("agent {} backing up '{}' from a {} to {}", IngestClient.VERSION, settings.deployment(),
                    source.replicaSet() ? "replica set (oplog read at majority)" : "server with an oplog", settings.serverUrl());
            loop = session.subscribe();
            heartbeatTimer = vertx.setPeriodic(settings.tuning().heartbeatSeconds() * 1000L, t -> heartbeat());
            return null;
        });
    }

    public Future<Void> stop() {
        if (heartbeatTimer >= 0) {
            vertx.cancelTimer(heartbeatTimer);
        }
        if (loop != null) {
            loop.dispose();
        }
        client.close();
        source.close();
        return Future.succeededFuture();
    }

    /** The job this agent feeds, once registered. */
    public String job() {
        return job;
    }

    /** The last position the service acknowledged as durable. */
    public OpTime acked() {
        return acked;
    }

    public String running() {
        return running;
    }

    public long syncedDocuments() {
        return syncedDocuments;
    }

    private Mono<Void> session() {
        return Mono.fromCompletionStage(() -> client.register(settings.deployment(), hostname).toCompletionStage())
                .flatMap(reg -> {
                    job = reg.getString("job");
                    String state = reg.getString("state");
                    OpTime stored = OpTime.fromJson(reg.getJsonObject("storedTs"));
                    Mono<Void> work = switch (state) {
                        case "INITIAL_SYNC" -> initialSync();
                        case "ACTIVE" -> tail(stored, reg.getString("storedEntrySha256"));
                        default -> idle(state, reg.getString("error"));
                    };
                    return work.takeUntilOther(restarts.asFlux().next());
                });
    }

    private Mono<Void> idle(String state, String error) {
        running = state;
        LOG.warn("job {} is {}{}; the agent waits for an operator (e.g. 'tidemark jobs resync --job {}')", job, state,
                error == null ? "" : " (" + error + ")", job);
        return Mono.never();
    }

    private Mono<Void> initialSync() {
        running = "INITIAL_SYNC";
        return source.latestTs().flatMap(startTs -> source.fetchStart(startTs).flatMap(fetchStart ->
                source.entryDigest(fetchStart).map(java.util.Optional::of).defaultIfEmpty(java.util.Optional.empty()).flatMap(sha ->
                Mono.fromCompletionStage(() -> client.beginSync(job, startTs, fetchStart, sha.orElse(null)).toCompletionStage()).flatMap(gen -> {
                    LOG.info("job {}: initial sync generation {} from {} (oplog from {})", job, gen, startTs, fetchStart);
                    acked = fetchStart;
                    InitialSync copy = new InitialSync(source, client, job, gen, settings.tuning().sliceBytes(),
                            settings.tuning().slicesInFlight());
                    long began = System.nanoTime();
                    Mono<Void> copied = copy.copyAll()
                            .doOnSubscribe(x -> progress = Flux.interval(PROGRESS_EVERY).subscribe(t -> logProgress(copy, began)))
                            .doFinally(x -> progress.dispose())
                            .then(source.latestTs())
                            .flatMap(endTs -> Mono.fromCompletionStage(() -> client.endSync(job, gen, endTs, copy.documents(),
                                    copy.collections()).toCompletionStage()).doOnNext(r -> {
                                        syncedDocuments = copy.documents();
                                        running = "ACTIVE";
                                        LOG.info("job {}: initial sync complete: {} collections, {} documents, {} MB; end position {}",
                                                job, copy.collections(), copy.documents(), copy.bytes() >> 20, endTs);
                                    }))
                            .then(Mono.never());
                    return Mono.firstWithSignal(shipOplog(fetchStart, sha.orElse(null)), copied);
                }))));
    }

    private void logProgress(InitialSync copy, long began) {
        double seconds = Math.max(1e-3, (System.nanoTime() - began) / 1e9);
        LOG.info("job {}: initial sync: {} documents ({} MB) in {} collections copied, {} MB/s, oplog acknowledged to {}",
                job, copy.documents(), copy.bytes() >> 20, copy.collections(),
                String.format("%.1f", copy.bytes() / 1e6 / seconds), acked);
    }

    private Mono<Void> tail(OpTime from, String fromSha256) {
        if (from == null) {
            return Mono.error(new IllegalStateException("the service reports job " + job + " ACTIVE without a stored position"));
        }
        running = "ACTIVE";
        acked = from;
        LOG.info("job {}: following the oplog from {}", job, from);
        return shipOplog(from, fromSha256);
    }

    private Mono<Void> shipOplog(OpTime from, String fromSha256) {
        OplogTail tail = new OplogTail(source, Duration.ofMillis(settings.tuning().pollMillis()));
        OplogShipper shipper = new OplogShipper(client, job, settings.tuning().batchMaxBytes(),
                Duration.ofMillis(settings.tuning().batchMaxMillis()));
        return shipper.ship(tail.from(from, fromSha256), from, ack -> {
            acked = ack;
            failures.set(0);
        }).then();
    }

    private Mono<Void> recover(Throwable e) {
        if (e instanceof OplogPositionLostException lost && job != null) {
            LOG.error("job {}: {}", job, lost.getMessage());
            return Mono.fromCompletionStage(() -> client.resyncRequired(job, lost.getMessage()).toCompletionStage())
                    .onErrorResume(err -> Mono.empty())
                    .then(Mono.delay(Duration.ofSeconds(1)))
                    .then();
        }
        int n = failures.incrementAndGet();
        Duration backoff = Duration.ofMillis(Math.min(MAX_BACKOFF.toMillis(), 250L << Math.min(n, 7)));
        LOG.warn("job {}: session ended: {}; resuming from the last acknowledged position in {} ms", job, e.getMessage(),
                backoff.toMillis());
        return Mono.delay(backoff).then();
    }

    private void heartbeat() {
        String current = job;
        if (current == null) {
            return;
        }
        source.latestTs().toFuture().whenComplete((latest, err) -> {
            if (latest != null) {
                sourceLatest = latest;
            }
            JsonObject status = new JsonObject().put("state", running).put("hostname", hostname);
            OpTime ackedNow = acked;
            if (sourceLatest != null && ackedNow != null) {
                status.put("lagSeconds", Math.max(0, sourceLatest.seconds() - ackedNow.seconds()))
                        .put("sourceTs", sourceLatest.toJson());
            }
            client.heartbeat(current, status).onSuccess(reply -> {
                String state = reply.getString("state");
                if (!state.equals(running) && !("ACTIVE".equals(state) && "INITIAL_SYNC".equals(running))) {
                    LOG.info("job {} is now {} (agent was {}); starting a new session", current, state, running);
                    restarts.tryEmitNext(state);
                }
            }).onFailure(fail -> LOG.debug("heartbeat failed: {}", fail.getMessage()));
        });
    }

    private static String hostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
