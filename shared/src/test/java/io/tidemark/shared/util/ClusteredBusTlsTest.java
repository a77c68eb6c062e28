package io.tidemark.shared.util;

import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.security.SelfSignedTls;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The clustered event bus with the cluster's certificate: members holding it talk; a process that
 * joins the Hazelcast cluster with another certificate can neither send to them nor receive from
 * them.
 */
class ClusteredBusTlsTest {

    @TempDir
    Path tmp;

    @Test
    void onlyMembersHoldingTheClustersCertificateUseTheBus() throws Exception {
        SelfSignedTls.Material cluster = SelfSignedTls.ensure(tmp.resolve("cluster"));
        SelfSignedTls.Material stranger = SelfSignedTls.ensure(tmp.resolve("stranger"));
        int[] ports = {freePort(), freePort(), freePort()};
        String members = "127.0.0.1:" + ports[0] + ",127.0.0.1:" + ports[1] + ",127.0.0.1:" + ports[2];
        List<Vertx> started = new ArrayList<>();
        try {
            Vertx a = member(started, ports[0], members, cluster);
            Vertx b = member(started, ports[1], members, cluster);
            Vertx c = member(started, ports[2], members, stranger);
            await(a.eventBus().<String>consumer("tls-test.a", m -> m.reply("from a")).completion());
            await(c.eventBus().<String>consumer("tls-test.c", m -> m.reply("from c")).completion());
            // The subscriptions travel through Hazelcast, which every member joined.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String answer = null;
            while (answer == null && System.nanoTime() < deadline) {
                try {
                    answer = await(b.eventBus().<String>request("tls-test.a", "hi", new DeliveryOptions().setSendTimeout(2_000))).body();
                } catch (IllegalStateException notYet) {
                    Thread.sleep(200);
                }
            }
            assertEquals("from a", answer, "members with the cluster's certificate talk");
            assertThrows(IllegalStateException.class, () -> await(c.eventBus().<String>request("tls-test.a", "hi",
                    new DeliveryOptions().setSendTimeout(3_000))), "a stranger cannot send to a member");
            assertThrows(IllegalStateException.class, () -> await(b.eventBus().<String>request("tls-test.c", "hi",
                    new DeliveryOptions().setSendTimeout(3_000))), "a member sends nothing to a stranger");
        } finally {
            for (Vertx v : started) {
                v.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static Vertx member(List<Vertx> started, int port, String members, SelfSignedTls.Material tls) {
        TidemarkConfig.Cluster config = new TidemarkConfig.Cluster(true, "tls-test", "127.0.0.1", "", port, 0, members,
                tls.certFile().toString(), tls.keyFile().toString());
        Vertx v = await(VertxFactory.create(new VertxOptions(), config));
        started.add(v);
        return v;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
