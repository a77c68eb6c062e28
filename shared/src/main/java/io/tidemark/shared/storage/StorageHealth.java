package io.tidemark.shared.storage;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.LogLimiter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Watches whether the server can write: the metadata store, and the file systems of the data dir,
 * the heads and the blocks. Every {@code storage.probeSeconds} it measures free space and makes a
 * small durable write to each ({@link DirectoryProbe}, and an upsert into the store), on workers.
 * It is what {@code /health} reports, what stops new snapshots and head builds before a disk is
 * full, and what recovers the server without a restart when space returns: the embedded store,
 * which closes itself after a failed write, is reopened once its directory takes writes again.
 *
 * <p>One per server process, owned by the server's wiring; components that must ask it (the
 * snapshotter, the heads) find it by their Vert.x instance ({@link #refusal(Vertx, String)}).
 */
public final class StorageHealth implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StorageHealth.class);
    private static final Map<Vertx, StorageHealth> BY_VERTX = new ConcurrentHashMap<>();
    private static final String PROBE_COLLECTION = "storageProbe";

    /** What {@code /health} shows: reasons are short and generic (it is unauthenticated). */
    public record Status(boolean up, List<String> reasons, List<String> lowSpace) {
        public JsonObject toJson() {
            return new JsonObject().put("status", up ? "UP" : "DOWN").put("reasons", new JsonArray(reasons))
                    .put("lowSpace", new JsonArray(lowSpace));
        }
    }

    private final Vertx vertx;
    private final Stores stores;
    private final TidemarkConfig.Storage settings;
    private final Map<String, DirectoryProbe> directories = new LinkedHashMap<>();
    private final LogLimiter logs = new LogLimiter(Duration.ofSeconds(30));
    private final List<Meter> meters = new ArrayList<>();
    private final Counter skipped;
    private volatile Status status = new Status(true, List.of(), List.of());
    private volatile boolean storeWritable = true;
    private long timer = -1;
    private boolean probing;
    private long downSince;

    private StorageHealth(Vertx vertx, Stores stores, TidemarkConfig config) {
        this.vertx = vertx;
        this.stores = stores;
        this.settings = config.storage();
        // The same directory watched once, under its first name.
        Map<String, java.nio.file.Path> watched = new LinkedHashMap<>();
        watched.put("data", config.dataPath());
        watched.put("heads", config.headsPath());
        if (!config.blockstoreType().equals("mongodb")) {
            watched.put("blocks", config.blocksPath());
        }
        watched.forEach((area, path) -> {
            if (directories.values().stream().noneMatch(d -> d.path().equals(path))) {
                directories.put(area, new DirectoryProbe(area, path, settings.minFreeBytes(), settings.minFreePercent()));
            }
        });
        MeterRegistry registry = Metrics.registry();
        directories.values().forEach(d -> meters.add(Gauge.builder("tidemark.storage.free", d, DirectoryProbe::freeBytes)
                .baseUnit("bytes").description("Usable bytes on the file system of a directory the server writes to")
                .tag("path", d.path().toString()).tag("area", d.area()).register(registry)));
        meters.add(Gauge.builder("tidemark.storage.degraded", this, h -> h.status.up() ? 0 : 1)
                .description("1 while the store or a watched directory cannot be written").register(registry));
        meters.add(Gauge.builder("tidemark.storage.low", this, h -> h.status.lowSpace().isEmpty() ? 0 : 1)
                .description("1 while a watched file system is below its free-space threshold").register(registry));
        skipped = Counter.builder("tidemark.storage.refused").description("New snapshots and head builds not started for storage")
                .register(registry);
        meters.add(skipped);
    }

    /**
     * Starts probing at once and then every {@code storage.probeSeconds}; registers it for
     * {@code vertx}. Built on a worker: registering its meters may initialise the metrics
     * registry and its JVM binders, which is slow on a cold JVM.
     */
    public static Future<StorageHealth> start(Vertx vertx, Stores stores, TidemarkConfig config) {
        return vertx.executeBlocking(() -> new StorageHealth(vertx, stores, config)).map(health -> {
            BY_VERTX.put(vertx, health);
            health.timer = vertx.setPeriodic(1, config.storage().probeSeconds() * 1000L, t -> health.probe());
            return health;
        });
    }

    /** The health of the server running on {@code vertx}, if one is watching. */
    public static Optional<StorageHealth> of(Vertx vertx) {
        return Optional.ofNullable(BY_VERTX.get(vertx));
    }

    /**
     * Why {@code what} (a new snapshot, a head build) must not start now, if it must not: the
     * storage cannot be written, or a file system is below its free-space threshold. Said in the
     * log once per interval, and counted.
     */
    public static Optional<String> refusal(Vertx vertx, String what) {
        return of(vertx).flatMap(h -> h.refusal(what));
    }

    Optional<String> refusal(String what) {
        Status s = status;
        List<String> why = new ArrayList<>(s.reasons());
        why.addAll(s.lowSpace());
        if (why.isEmpty()) {
            return Optional.empty();
        }
        String reason = String.join("; ", why);
        skipped.increment();
        long suppressed = logs.admit("refused");
        if (suppressed >= 0) {
            LOG.warn("{} not started: {}{}", what, reason, LogLimiter.suppressedNote(suppressed));
        }
        return Optional.of(reason);
    }

    public Status status() {
        return status;
    }

    /** One round: directories on a worker, then the store; at most one round at a time. */
    private void probe() {
        if (probing) {
            return;
        }
        probing = true;
        vertx.executeBlocking(() -> {
            directories.values().forEach(DirectoryProbe::probe);
            return null;
        }, false).compose(v -> probeStore()).onComplete(ar -> {
            probing = false;
            if (ar.failed()) {
                LOG.warn("storage probe failed: {}", ar.cause().toString());
            }
            update();
        });
    }

    /**
     * Upserts one small document. When the embedded store has closed itself, it is opened again
     * first, but only once its directory takes writes (reopening onto a full disk would only
     * close it again).
     */
    private Future<Void> probeStore() {
        Future<Void> reopened = Future.succeededFuture();
        if (stores.embeddedClosed()) {
            if (!directories.get("data").writable()) {
                storeWritable = false;
                return Future.succeededFuture();
            }
            reopened = vertx.executeBlocking(() -> {
                stores.reopenEmbedded();
                LOG.info("the embedded store had closed itself after a failed write; its disk takes writes again, so it was reopened");
                return null;
            }, false);
        }
        JsonObject probe = new JsonObject().put("_id", "probe").put("at", System.currentTimeMillis());
        boolean reopening = stores.embeddedClosed();
        return reopened.compose(v -> stores.metadata().save(PROBE_COLLECTION, probe))
                // Just reopened: the client's pooled connections to the old server fail once.
                .recover(e -> reopening ? stores.metadata().save(PROBE_COLLECTION, probe) : Future.failedFuture(e))
                // An unreachable store would keep the probe waiting for the driver's own 30 s.
                .timeout(Math.max(5, settings.probeSeconds()), TimeUnit.SECONDS)
                .<Void>map(id -> {
                    storeWritable = true;
                    return null;
                })
                .recover(e -> {
                    storeWritable = false;
                    long suppressed = logs.admit("store");
                    if (suppressed >= 0) {
                        LOG.warn("storage probe: the metadata store does not take writes: {}{}", e.toString(),
                                LogLimiter.suppressedNote(suppressed));
                    }
                    return Future.succeededFuture();
                });
    }

    private void update() {
        List<String> reasons = new ArrayList<>();
        List<String> low = new ArrayList<>();
        if (!storeWritable) {
            reasons.add("metadata store not writable");
        }
        for (DirectoryProbe d : directories.values()) {
            d.failure().ifPresent(reasons::add);
            if (d.low()) {
                low.add(d.lowReason());
            }
            if (d.lowChanged()) {
                LOG.warn("{}", d.low() ? d.lowReason() + ": new snapshots and head builds do not start until space is freed"
                        : d.area() + " disk " + d.path() + " has enough free space again (" + d.freeBytes() + " bytes)");
                vertx.eventBus().publish(Addresses.STORAGE_LOW, new JsonObject().put("path", d.path().toString())
                        .put("area", d.area()).put("freeBytes", d.freeBytes()).put("thresholdBytes", d.thresholdBytes())
                        .put("low", d.low()));
            }
        }
        Status before = status;
        Status now = new Status(reasons.isEmpty(), List.copyOf(reasons), List.copyOf(low));
        status = now;
        if (before.up() && !now.up()) {
            downSince = System.nanoTime();
            LOG.warn("storage DOWN: {}; writes answer 503 until it can write again", String.join("; ", reasons));
        } else if (!before.up() && now.up()) {
            LOG.info("storage UP again after {} s: the store and every watched directory take writes",
                    (System.nanoTime() - downSince) / 1_000_000_000);
            logs.reset("store");
            logs.reset("refused");
        } else if (!now.up() && !before.reasons().equals(now.reasons())) {
            LOG.warn("storage still DOWN: {}", String.join("; ", reasons));
        }
        if (before.up() != now.up()) {
            vertx.eventBus().publish(Addresses.STORAGE_STATE, now.toJson().put("up", now.up()));
        }
    }

    @Override
    public void close() {
        BY_VERTX.remove(vertx, this);
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        meters.forEach(Metrics.registry()::remove);
    }
}
