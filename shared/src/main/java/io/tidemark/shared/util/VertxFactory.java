package io.tidemark.shared.util;

import io.tidemark.shared.config.TidemarkConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.concurrent.TimeUnit;

/**
 * Creates every Vert.x instance of the server, the CLI and the tests, so that one system
 * property can tighten the blocked-thread checker for all of them. With
 * {@code -Dtidemark.test.maxEventLoopMillis=N} (set for the whole test suite) an event loop busy
 * for longer than N ms is reported with its stack, which the test harness turns into a failing
 * test; without it Vert.x's defaults apply (a warning after 2 s).
 */
public final class VertxFactory {

    /** The event-loop time limit in milliseconds; unset in production. */
    public static final String MAX_EVENT_LOOP_MILLIS = "tidemark.test.maxEventLoopMillis";

    private VertxFactory() {
    }

    public static Vertx create() {
        return create(new VertxOptions());
    }

    public static Vertx create(VertxOptions options) {
        return Vertx.vertx(withLimits(options));
    }

    /**
     * A Vert.x for a server process: clustered over Hazelcast when {@code cluster.enabled}
     * (docs/scale-out.md, "Clustered event bus"), else the same as {@link #create(VertxOptions)}.
     * Vert.x starts and joins the Hazelcast member on its own worker threads, so no event loop
     * waits on the join.
     */
    public static Future<Vertx> create(VertxOptions options, TidemarkConfig.Cluster cluster) {
        if (!cluster.enabled()) {
            return Future.succeededFuture(create(options));
        }
        String announced = cluster.publicHost().isBlank() ? cluster.host() : cluster.publicHost();
        EventBusOptions bus = new EventBusOptions().setHost(cluster.host()).setPort(cluster.busPort())
                .setClusterPublicHost(announced);
        if (cluster.tls()) {
            // Both ends present the cluster's one certificate and trust only that one, as its own
            // anchor: a process without the key can neither send on the bus nor receive from it.
            // PEM options, not a trust manager object: the bus copies its options through JSON.
            bus.setSsl(true).setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED)
                    .setKeyCertOptions(new io.vertx.core.net.PemKeyCertOptions().setCertPath(cluster.tlsCertFile())
                            .setKeyPath(cluster.tlsKeyFile()))
                    .setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(cluster.tlsCertFile()));
        }
        return Vertx.builder().with(withLimits(new VertxOptions(options).setEventBusOptions(bus)))
                .withClusterManager(new HazelcastClusterManager(HazelcastSettings.of(cluster)))
                .buildClustered();
    }

    static VertxOptions withLimits(VertxOptions options) {
        String limit = System.getProperty(MAX_EVENT_LOOP_MILLIS);
        if (limit == null || limit.isBlank()) {
            return options;
        }
        long millis = Long.parseLong(limit.trim());
        // Check often enough to see a block soon after it passes the limit, and log the blocked
        // thread's stack on the first report: that is what a developer needs to find the culprit.
        return new VertxOptions(options)
                .setMaxEventLoopExecuteTime(millis).setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
                .setWarningExceptionTime(millis).setWarningExceptionTimeUnit(TimeUnit.MILLISECONDS)
                .setBlockedThreadCheckInterval(Math.max(10, millis / 4)).setBlockedThreadCheckIntervalUnit(TimeUnit.MILLISECONDS);
    }
}
