package io.tidemark.deploy;

import io.tidemark.shared.testing.ChildJvm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A {@code tidemark server} and a {@code tidemark agent}, each in its own JVM started as an
 * operator would (the CLI's main class with {@code --config}), on loopback ports fixed for the
 * whole run so that a restarted server is where its agent and admin clients look for it.
 * {@link #killServer()} and {@link #killAgent()} are {@code kill -9}: no shutdown hook runs.
 */
final class CrashCluster implements AutoCloseable {

    private static final String MAIN = TidemarkCli.class.getName();
    /** A cold JVM, TLS material and the embedded store: seconds on a loaded 2-core machine. */
    private static final long START_SECONDS = 90;

    private final Path dataDir;
    private final Path configFile;
    private final String sourceUri;
    private final String deployment;
    private Process server;
    private Process agent;
    private int serverStarts;
    private int agentStarts;
    private long serverStartNanos;
    private int serverStartsAwaited;
    /**
     * Every child's output, one file per process start, so that a failed run can be read after it:
     * {@code target/crash-suite} by default ({@code -Dtidemark.crash.logDir}), emptied at each run.
     */
    private final Path logDir = Path.of(System.getProperty("tidemark.crash.logDir", "target/crash-suite"));
    private final List<java.io.PrintWriter> logs = new ArrayList<>();

    CrashCluster(Path work, String sourceUri, String deployment) {
        this.dataDir = work.resolve("data");
        this.configFile = work.resolve("tidemark.yaml");
        this.sourceUri = sourceUri;
        this.deployment = deployment;
        try {
            if (Files.isDirectory(logDir)) {
                try (var old = Files.list(logDir)) {
                    for (Path f : old.toList()) {
                        Files.delete(f);
                    }
                }
            }
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // Small chunks so a small head spans many blocks; short batches so captures are fine-grained;
        // sweeps on every groom with no grace period, so a groom has blocks to delete while it is killed.
        String yaml = String.join("\n",
                "dataDir: " + dataDir,
                "ingest: {host: 127.0.0.1, port: " + CaptureHarness.freePort() + "}",
                "api: {host: 127.0.0.1, port: " + CaptureHarness.freePort() + "}",
                "agent: {batchMaxMillis: 50, heartbeatSeconds: 1, pollMillis: 20, sliceBytes: 65536}",
                "snapshots: {chunkMinBytes: 1024, chunkAvgBytes: 4096, chunkMaxBytes: 16384}",
                "groom: {unreferencedShareThreshold: 0.0001, blockGraceMinutes: 0}",
                "");
        try {
            Files.writeString(configFile, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path dataDir() {
        return dataDir;
    }

    Path configFile() {
        return configFile;
    }

    /** Starts the server and returns once it says it is serving. */
    void startServer() {
        startServer(true);
    }

    /** Starts the server; with {@code await}, returns once it says it is serving, else at once (to kill it while it starts). */
    void startServer(boolean await) {
        long began = System.nanoTime();
        CountDownLatch up = new CountDownLatch(1);
        java.util.function.Consumer<String> serverLog = log(String.format("%02d-server.log", serverStarts + agentStarts));
        server = ChildJvm.start(dataDir.getParent(), jvmArgs(), MAIN, List.of("server", "--config", configFile.toString()),
                line -> {
                    if (line.startsWith("Tidemark server running")) {
                        up.countDown();
                    }
                    serverLog.accept(line);
                }, serverLog);
        serverStarts++;
        if (await) {
            awaitLatch(up, server, "the server");
            serverStartNanos += System.nanoTime() - began;
            serverStartsAwaited++;
        }
    }

    /** Starts the agent with the local server's credentials, as on the server's own machine. */
    void startAgent() {
        java.util.function.Consumer<String> agentLog = log(String.format("%02d-agent.log", serverStarts + agentStarts));
        agent = ChildJvm.start(dataDir.getParent(), jvmArgs(), MAIN, List.of("agent", "--config", configFile.toString(),
                "--source", sourceUri, "--name", deployment), agentLog, agentLog);
        agentStarts++;
    }

    /** Appends a child's lines to its file in {@link #logDir} (they are the logger's, on stderr). */
    private java.util.function.Consumer<String> log(String name) {
        try {
            // One open file per process start; println flushes, so a killed child's last lines are on disk.
            java.io.PrintWriter out = new java.io.PrintWriter(Files.newBufferedWriter(logDir.resolve(name)), true);
            logs.add(out);
            return out::println;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void killServer() {
        kill(server);
    }

    void killAgent() {
        kill(agent);
    }

    /** SIGKILL on Linux: the process gets no chance to flush, fsync or say goodbye. */
    private static void kill(Process p) {
        p.destroyForcibly();
        awaitExit(p, 30, "kill -9");
    }

    private static void awaitExit(Process p, int seconds, String after) {
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                throw new AssertionError("process " + p.pid() + " still runs " + seconds + " s after " + after);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    int serverStarts() {
        return serverStarts;
    }

    /** Mean seconds from starting a server's JVM to its serving. */
    double meanServerStartSeconds() {
        return serverStartsAwaited == 0 ? 0 : serverStartNanos / 1e9 / serverStartsAwaited;
    }

    int agentStarts() {
        return agentStarts;
    }

    /** A clean stop (SIGTERM: the shutdown hooks run), agent first. */
    void stop() {
        for (Process p : new Process[] {agent, server}) {
            if (p != null && p.isAlive()) {
                p.destroy();
                awaitExit(p, 60, "SIGTERM");
            }
        }
    }

    private static List<String> jvmArgs() {
        // Small heaps: two JVMs next to the test's own on a shared machine.
        return new ArrayList<>(List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
    }

    private static void awaitLatch(CountDownLatch latch, Process p, String what) {
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS);
            while (!latch.await(100, TimeUnit.MILLISECONDS)) {
                if (!p.isAlive()) {
                    throw new AssertionError(what + " exited with status " + p.exitValue() + " while starting");
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(what + " did not start within " + START_SECONDS + " s");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        for (Process p : new Process[] {agent, server}) {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
        }
        logs.forEach(java.io.PrintWriter::close);
    }
}
