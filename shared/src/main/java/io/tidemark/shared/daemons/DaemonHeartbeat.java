package io.tidemark.shared.daemons;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Rewrites this daemon's registry entry every {@code daemons.heartbeatSeconds} (host, head root,
 * head disk used and free, version, jobs held) and hands the operator's switches back to
 * {@link HeldBindings}. Measuring the disk is file-system I/O: on a worker.
 */
public final class DaemonHeartbeat {

    private static final Logger LOG = LoggerFactory.getLogger(DaemonHeartbeat.class);
    public static final String VERSION = "0.1.0";

    private final Vertx vertx;
    private final DaemonRegistry registry;
    private final HeldBindings bindings;
    private final Path headRoot;
    private final JsonObject fixed;
    private final long periodMillis;
    private long timer = -1;
    private boolean beating;

    /** @param fixed fields that do not change while the daemon runs (its block store type, its API URL) */
    public DaemonHeartbeat(Vertx vertx, DaemonRegistry registry, HeldBindings bindings, Path headRoot, JsonObject fixed,
                           int periodSeconds) {
        this.vertx = vertx;
        this.registry = registry;
        this.bindings = bindings;
        this.headRoot = headRoot;
        this.fixed = fixed.copy();
        this.periodMillis = periodSeconds * 1000L;
    }

    /** The first heartbeat, then one every period. */
    public Future<Void> start() {
        return beat().onComplete(ar -> timer = vertx.setPeriodic(periodMillis, t -> {
            if (!beating) {
                beating = true;
                beat().onComplete(x -> beating = false);
            }
        }));
    }

    public void stop() {
        vertx.cancelTimer(timer);
    }

    Future<Void> beat() {
        return vertx.executeBlocking(this::measure, false)
                .compose(fields -> registry.heartbeat(bindings.daemon(), fields))
                .compose(v -> registry.find(bindings.daemon()))
                .map(doc -> {
                    if (doc != null) {
                        bindings.backupJobs(doc.getBoolean("backupJobs", true));
                    }
                    return (Void) null;
                })
                .onFailure(e -> LOG.warn("daemon {}: heartbeat failed (trying again): {}", bindings.daemon(), e.getMessage()));
    }

    private JsonObject measure() {
        try {
            Files.createDirectories(headRoot);
            FileStore fs = Files.getFileStore(headRoot);
            long free = fs.getUsableSpace();
            return fixed.copy()
                    .put("host", InetAddress.getLocalHost().getHostName())
                    .put("headRoot", headRoot.toString())
                    .put("headFreeBytes", free)
                    .put("headUsedBytes", fs.getTotalSpace() - fs.getUnallocatedSpace())
                    .put("version", VERSION)
                    .put("held", new JsonObject(new java.util.LinkedHashMap<>(bindings.held())));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
