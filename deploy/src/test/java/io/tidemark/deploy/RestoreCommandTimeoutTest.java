package io.tidemark.deploy;

import io.tidemark.shared.security.SelfSignedTls;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tidemark restore} against a server that misbehaves mid-download: it ends, within its
 * timeouts, with one line saying what failed, a non-zero exit and no file. The server is a tiny
 * HTTPS server that answers the restore request and then sends the archive's headers and a few
 * bytes, and nothing more.
 */
class RestoreCommandTimeoutTest {

    @TempDir
    Path dir;

    Vertx vertx;
    HttpServer server;
    SelfSignedTls.Material tls;

    @BeforeEach
    void start() {
        vertx = VertxFactory.create();
        tls = SelfSignedTls.ensure(dir.resolve("tls"));
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
                        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certFile().toString())
                                .setKeyPath(tls.keyFile().toString())))
                .requestHandler(req -> {
                    if (req.path().endsWith("/restores") && req.method().name().equals("POST")) {
                        req.response().setStatusCode(201).putHeader("Content-Type", "application/json")
                                .end(new JsonObject().put("id", "r1").put("state", "READY").put("downloadUrl", "/download/stall")
                                        .encode());
                    } else if (req.path().equals("/download/stall")) {
                        // headers and some bytes, then silence with the connection open
                        req.response().setChunked(true).setStatusCode(200).write(Buffer.buffer(new byte[64 * 1024]));
                    } else {
                        // the restore's status: never answered, like a server that hangs altogether
                    }
                })
                .listen().await();
    }

    @AfterEach
    void stop() {
        vertx.close().await();
    }

    @Test
    void aStalledDownloadTimesOutWithAClearErrorAndLeavesNoFile() {
        Path out = dir.resolve("stalled.archive");
        long started = System.nanoTime();
        List<String> said = restoreFailing(out, "--idle-timeout", "2");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        assertEquals(1, said.size(), said.toString());
        assertTrue(said.get(0).contains("restore r1 failed: no data from the server for 2 s after 65.5 KB"), said.get(0));
        // 2 s idle, then at most 5 s asking the server why
        assertTrue(seconds < 12, "ended after " + seconds + " s");
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("stalled.archive.part")));
    }

    @Test
    void aStreamClosedBeforeItsEndIsAFailureNotAShortFile() {
        server.close().await();
        server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
                        .setKeyCertOptions(new PemKeyCertOptions().setCertPath(tls.certFile().toString())
                                .setKeyPath(tls.keyFile().toString())))
                .requestHandler(req -> {
                    if (req.path().endsWith("/restores")) {
                        req.response().setStatusCode(201).end(new JsonObject().put("id", "r2").put("downloadUrl", "/download/gone")
                                .encode());
                    } else if (req.path().equals("/download/gone")) {
                        req.response().setChunked(true).setStatusCode(200).write(Buffer.buffer(new byte[64 * 1024]))
                                .onComplete(ar -> vertx.setTimer(100, t -> req.connection().close()));
                    } else {
                        req.response().setStatusCode(200).end(new JsonObject().put("state", "FAILED")
                                .put("error", "missing block 00ff").encode());
                    }
                })
                .listen().await();
        Path out = dir.resolve("closed.archive");
        List<String> said = restoreFailing(out, "--idle-timeout", "30");
        assertEquals(List.of("tidemark: restore r2 failed: the server closed the stream after 65.5 KB: missing block 00ff"), said);
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(dir.resolve("closed.archive.part")));
    }

    @Test
    void anUnreachableServerFailsAtOnce() {
        int port = server.actualPort();
        server.close().await();
        Path out = dir.resolve("nowhere.archive");
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = TidemarkCli.run("restore", "--job", "j", "--snapshot", "s", "--out", out.toString(),
                    "--url", "https://127.0.0.1:" + port, "--token", "unused", "--pin", tls.sha256(),
                    "--data-dir", dir.toString(), "--connect-timeout", "2");
        } finally {
            System.setErr(err);
        }
        assertEquals(1, exit);
        assertTrue(captured.toString(StandardCharsets.UTF_8).contains("cannot reach"), captured.toString(StandardCharsets.UTF_8));
        assertFalse(Files.exists(out));
    }

    /** Runs a restore that must fail; returns the lines it printed as its error. */
    private List<String> restoreFailing(Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("restore", "--job", "j", "--snapshot", "s",
                "--out", out.toString(), "--url", "https://127.0.0.1:" + server.actualPort(), "--token", "unused",
                "--pin", tls.sha256(), "--data-dir", dir.toString()));
        args.addAll(List.of(more));
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = TidemarkCli.run(args.toArray(String[]::new));
        } finally {
            System.setErr(err);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        assertEquals(1, exit, printed);
        return printed.lines().filter(l -> l.startsWith("tidemark:")).toList();
    }
}
