package io.tidemark.shared.testing;

import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The suite's two test modes can fail: a blocked event loop and a secret in a log line (of this
 * JVM, printed or not, and of a child process) are caught and reported with the secret redacted.
 * Each test takes the findings it provoked, so the extension does not fail it for them.
 */
class LogWatchTest {

    /** Shaped like an agent key; never issued by any server. */
    static final String FAKE_KEY = "tmg_0123456789ab_" + "Zq3xV9mKp2LwT8rYc4NbH6jD1sF5gA7eU0oI-_QwErT";

    @Test
    void aBlockedEventLoopIsReportedWithTheBlockingStack() throws Exception {
        long limit = Long.parseLong(System.getProperty(VertxFactory.MAX_EVENT_LOOP_MILLIS, "2000"));
        Vertx vertx = VertxFactory.create();
        try {
            CountDownLatch done = new CountDownLatch(1);
            vertx.runOnContext(v -> {
                blockFor(Math.max(limit * 3, LogWatch.scaledLimit(limit) * 2));
                done.countDown();
            });
            assertTrue(done.await(60, TimeUnit.SECONDS));
            List<LogWatch.Finding> findings = awaitFindings(f -> f.kind() == LogWatch.Kind.BLOCKED_EVENT_LOOP
                    && f.text().contains("blockFor"));
            AssertionError failure = LogWatch.failure("during this test", findings);
            assertNotNull(failure);
            assertTrue(failure.getMessage().contains("blocked event loop"), failure.getMessage());
            assertTrue(failure.getMessage().contains("vert.x-eventloop-thread"), failure.getMessage());
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void aSecretInAPrintedLogLineIsReportedRedacted() {
        LoggerFactory.getLogger(LogWatchTest.class).warn("issued {} for the agent", FAKE_KEY);
        List<LogWatch.Finding> findings = awaitFindings(f -> f.kind() == LogWatch.Kind.SECRET);
        String message = LogWatch.failure("during this test", findings).getMessage();
        assertTrue(message.contains("issued <API key redacted> for the agent"), message);
        assertFalse(message.contains(FAKE_KEY.substring(17)), "the failure must not repeat the secret");
    }

    @Test
    void aSecretInALineBelowTheConsoleLevelIsReportedToo() {
        System.setProperty("org.slf4j.simpleLogger.log.tidemark.quiet", "warn");
        String link = "/download/" + FAKE_KEY.substring(17);
        LoggerFactory.getLogger("tidemark.quiet").info("GET {} failed", link, new IllegalStateException("at " + link));
        List<LogWatch.Finding> findings = awaitFindings(f -> f.kind() == LogWatch.Kind.SECRET);
        assertEquals(2, findings.size(), findings.toString());
        assertTrue(findings.get(0).text().contains("GET <download link redacted> failed"), findings.toString());
    }

    @Test
    void aSecretOrABlockedLoopInAChildProcessLogIsReported() throws Exception {
        Process child = ChildJvm.start(Path.of("."), List.of(), ChildThatLogs.class.getName(), List.of(), line -> { }, line -> { });
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        List<LogWatch.Finding> findings = awaitFindings(f -> f.kind() == LogWatch.Kind.BLOCKED_EVENT_LOOP);
        assertTrue(findings.stream().anyMatch(f -> f.kind() == LogWatch.Kind.SECRET
                && f.text().contains("<private key redacted>")), findings.toString());
        assertTrue(findings.stream().allMatch(f -> f.toString().contains("child " + ChildThatLogs.class.getName())), findings.toString());
    }

    @Test
    void namesDigestsAndIdsAreNotSecrets() {
        for (String line : List.of(
                "job bench-ingest-0-675655816446-b29a8b stored 4194304 bytes",
                "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "restore 3f2504e0-4f89-11d3-9a0c-0305e82c3301 at 1700000000:1",
                "fingerprint n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
                "key tmg_0123456789ab (agent key, revoked)")) {
            assertNull(SecretShapes.redactedIfSecret(line), line);
        }
        assertNotNull(SecretShapes.redactedIfSecret("Authorization: Bearer " + FAKE_KEY));
        assertNotNull(SecretShapes.redactedIfSecret("-----BEGIN EC PRIVATE KEY-----"));
    }

    @Test
    void aBlockWhileTheJvmLoadsAClassIsAColdStartNotTheCodesWork() {
        String loading = "Thread vert.x-eventloop-thread-1 has been blocked for 328 ms, time limit is 200 ms\n"
                + "io.vertx.core.VertxException: Thread blocked\n"
                + "\tat java.base@17.0.15/java.lang.ClassLoader.defineClass1(Native Method)\n"
                + "\tat app//io.vertx.core.http.impl.Http1xClientConnection.createStream(Http1xClientConnection.java:1239)";
        String initialising = "Thread vert.x-eventloop-thread-0 has been blocked for 900 ms, time limit is 200 ms\n"
                + "\tat app//io.netty.handler.ssl.OpenSsl.loadTcNative(OpenSsl.java:700)\n"
                + "\tat app//io.tidemark.shared.security.TlsEngines.<clinit>(TlsEngines.java:19)";
        String working = "Thread vert.x-eventloop-thread-0 has been blocked for 900 ms, time limit is 200 ms\n"
                + "\tat app//com.github.luben.zstd.ZstdCompressCtx.compress(ZstdCompressCtx.java:600)\n"
                + "\tat app//io.tidemark.shared.bson.Zstd.compress(Zstd.java:30)";
        assertTrue(LogWatch.loadingClasses(loading));
        assertTrue(LogWatch.loadingClasses(initialising));
        assertTrue(LogWatch.loadingClasses("Thread vert.x-eventloop-thread-0 has been blocked for 900 ms, time limit is 200 ms\n"
                + "\tat app//io.tidemark.applier.ApplierVerticle.start(ApplierVerticle.java:54)\n"
                + "\tat app//io.vertx.core.VerticleBase.deploy(VerticleBase.java:74)"));
        assertFalse(LogWatch.loadingClasses(working));
    }

    private static void blockFor(long millis) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    /** Takes findings until one matches (they may arrive from other threads a little later). */
    private static List<LogWatch.Finding> awaitFindings(Predicate<LogWatch.Finding> wanted) {
        List<LogWatch.Finding> all = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (all.stream().noneMatch(wanted) && System.nanoTime() < deadline) {
            all.addAll(LogWatch.take());
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        all.addAll(LogWatch.take());
        assertTrue(all.stream().anyMatch(wanted), "expected finding not reported: " + all);
        return all;
    }

    /** Run in a child JVM: logs a private key's header, then blocks its event loop. */
    static final class ChildThatLogs {
        public static void main(String[] args) throws Exception {
            LoggerFactory.getLogger(ChildThatLogs.class).info("loaded -----BEGIN PRIVATE KEY----- from the key file");
            long limit = Long.parseLong(System.getProperty(VertxFactory.MAX_EVENT_LOOP_MILLIS, "2000"));
            Vertx vertx = VertxFactory.create();
            CountDownLatch done = new CountDownLatch(1);
            vertx.runOnContext(v -> {
                blockFor(Math.max(limit * 3, LogWatch.scaledLimit(limit) * 2));
                done.countDown();
            });
            done.await();
            vertx.close().await();
        }
    }
}
