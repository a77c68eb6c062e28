package io.tidemark.deploy;

import com.mongodb.reactivestreams.client.MongoClient;
import io.tidemark.applier.VerifyHash;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.restore.archive.StrictArchiveReader;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crash suite (issue 12, item 5): a real {@code tidemark server} and {@code tidemark agent},
 * each its own JVM on loopback, back up a source under a continuous mixed write load (inserts,
 * {@code $v:2} updates, replacements, deletes, collection create and drop) while the test kills
 * one or the other with {@code kill -9} at random moments: idle, while a snapshot is being
 * written, while a groom runs. Between kills it takes snapshots. At the end, with the load
 * stopped and everything caught up, it asserts that nothing was lost or doubled and everything
 * restores:
 * <ul>
 *   <li>the oplog store holds every source entry since the sync's fetch start exactly once, in
 *       order, byte for byte, its batches chained without a gap; or, where a groom in the loop
 *       trimmed the oldest batches, since where the stored chain begins, which must be at or before
 *       the oldest complete snapshot (no restore can start earlier);</li>
 *   <li>{@code tidemark verify} (head equals source) and {@code tidemark check --read-data} pass;</li>
 *   <li>every complete snapshot, restored through {@code tidemark restore --out} and parsed
 *       strictly, holds exactly the namespaces and documents (exact bytes) that the source held at
 *       the snapshot's position. The expected content comes from {@link SourceHistory}, a record
 *       of the source's own documents after each write, so no Tidemark component (applier, PIT
 *       restore) is trusted to produce the reference it is compared with.</li>
 * </ul>
 * {@code -Dtidemark.crash.kills=N} (default 20) sets the number of kills, {@code -Dtidemark.crash.seed}
 * replays a run. The figures are printed as one JSON line starting with {@code crash-suite:}.
 */
@Tag("crash")
class CrashSuiteTest {

    private static final String DEPLOYMENT = "crash-shop";
    private static final int KILLS = Integer.getInteger("tidemark.crash.kills", 20);
    private static final Duration CATCH_UP = Duration.ofSeconds(120);

    @TempDir
    Path work;

    @Test
    void killedServersAndAgentsLoseNothingAndEverySnapshotRestores() throws Exception {
        long seed = Long.getLong("tidemark.crash.seed", System.nanoTime());
        Random rnd = new Random(seed);
        System.out.println("crash-suite seed " + seed + " (replay with -Dtidemark.crash.seed=" + seed + ")");
        long started = System.nanoTime();
        Map<String, Integer> kills = new TreeMap<>();
        List<JsonObject> snapshotsTaken = new ArrayList<>();
        double killLoopSeconds;

        try (MongoShapedSource source = new MongoShapedSource();
             CrashCluster cluster = new CrashCluster(work, source.uri(), DEPLOYMENT)) {
            DemoDataset data = new DemoDataset();
            data.load(source, 300, 60, 600, 300);
            try (SourceHistory history = new SourceHistory(source);
                 SteadyLoad load = new SteadyLoad(new DemoWorkload(source, data, 300, 60), history)) {
                cluster.startServer();
                cluster.startAgent();
                load.start();
                try (AdminClient admin = new AdminClient(cluster.dataDir(), null, null, null)) {
                    awaitApplied(admin, history.baseTs(), "the initial sync");
                    for (Target target : schedule(rnd, KILLS)) {
                        Thread.sleep(100 + rnd.nextInt(700));
                        String kind = killOnce(target, rnd, cluster, admin);
                        kills.merge(kind, 1, Integer::sum);
                        load.check();
                        if (rnd.nextInt(4) == 0) {
                            // After kills the agent may still be backing off; a snapshot of a head that has not
                            // moved would only answer "unchanged", so wait for one new entry applied first.
                            if (!snapshotsTaken.isEmpty()) {
                                OpTime previous = OpTime.fromJson(snapshotsTaken.get(snapshotsTaken.size() - 1).getJsonObject("ts"));
                                awaitApplied(admin, new OpTime(previous.seconds(), previous.increment() + 1), "the head to move");
                            }
                            snapshotsTaken.add(snapshotWhenServing(admin));
                        }
                    }
                    killLoopSeconds = (System.nanoTime() - started) / 1e9;
                    load.close();
                    OpTime last = history.latest();
                    awaitApplied(admin, last, "the head to apply the whole load");
                    snapshotsTaken.add(snapshotWhenServing(admin));
                }
                cluster.stop();

                // The final checks run on a server in this JVM on the same data dir and config:
                // one more restart, and direct access to the oplog store.
                try (TidemarkServer server = TidemarkServer.start(ConfigLoader.load(cluster.configFile(), Map.of()));
                     MongoClient reactive = CaptureHarness.client(source.uri())) {
                    // Grooms run in the loop, so the oldest batches may be trimmed (never past the oldest snapshot).
                    OpTime chainStart = CaptureHarness.assertExactlyOnceInOrderSinceTrim(reactive, server, DEPLOYMENT);
                    OpTime fetchStart = OpTime.fromJson(CaptureHarness.job(server, DEPLOYMENT)
                            .getJsonObject("sync").getJsonObject("fetchStartTs"));
                    int entries = CaptureHarness.sourceEntries(reactive, fetchStart).size();
                    int trimmedEntries = entries - CaptureHarness.sourceEntries(reactive, chainStart).size();
                    Path dir = cluster.dataDir();
                    // exit status 0 only when every namespace matches
                    CliRun.okIn(dir, "verify", "--job", DEPLOYMENT, "--source", source.uri());
                    String check = CliRun.okIn(dir, "check", "--job", DEPLOYMENT, "--read-data");
                    assertTrue(check.contains("OK"), check);

                    JsonArray complete = new JsonArray(CliRun.okIn(dir, "snapshots", "list", "--job", DEPLOYMENT, "--json"));
                    for (JsonObject taken : snapshotsTaken) {
                        assertTrue(complete.stream().anyMatch(o -> ((JsonObject) o).getString("id")
                                .equals(taken.getString("snapshotId"))), "snapshot " + taken.encode() + " is listed");
                    }
                    int restored = 0;
                    for (Object o : complete) {
                        JsonObject s = (JsonObject) o;
                        OpTime ts = OpTime.fromJson(s.getJsonObject("ts"));
                        Path out = work.resolve("restore-" + restored + ".archive");
                        CliRun.okIn(dir, "restore", "--job", DEPLOYMENT, "--snapshot", s.getString("id"),
                                "--out", out.toString());
                        assertEquals(history.at(ts), content(StrictArchiveReader.read(Files.readAllBytes(out))),
                                "snapshot " + s.getString("id") + " at " + ts + " restores what the source held then");
                        Files.delete(out);
                        restored++;
                    }
                    JsonArray all;
                    try (AdminClient admin = new AdminClient(dir, null, null, null)) {
                        all = admin.get(snapshotsPath() + "?includeIncomplete=true").getJsonArray("snapshots");
                    }
                    long failed = all.stream().filter(o -> ((JsonObject) o).getBoolean("failed", false)).count();
                    assertTrue(KILLS == 0 || kills.values().stream().mapToInt(Integer::intValue).sum() == KILLS);
                    JsonObject figures = new JsonObject()
                            .put("seed", seed)
                            .put("kills", KILLS)
                            .put("killsByKind", new JsonObject(new TreeMap<>(kills)))
                            .put("serverStarts", cluster.serverStarts())
                            .put("agentStarts", cluster.agentStarts())
                            .put("operations", load.operations())
                            .put("sourceEntries", entries)
                            .put("entriesTrimmedByGrooms", trimmedEntries)
                            .put("snapshotsTaken", new JsonObject(snapshotsTaken.stream().collect(java.util.stream.Collectors
                                    .groupingBy(t -> t.getString("startStatus"), TreeMap::new, java.util.stream.Collectors.counting()))
                                    .entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (Object) e.getValue()))))
                            .put("snapshotsRestored", restored)
                            .put("snapshotsFailed", failed)
                            .put("snapshotsIncomplete", all.size() - restored - failed)
                            .put("meanServerStartSeconds", Math.round(cluster.meanServerStartSeconds() * 100) / 100.0)
                            .put("killLoopSeconds", Math.round(killLoopSeconds))
                            .put("seconds", Math.round((System.nanoTime() - started) / 1e9));
                    System.out.println("crash-suite: " + figures.encode());
                }
            }
        }
    }

    /**
     * One kill of a random kind at a random moment: the server or the agent while idle (only the
     * load runs), the server while a snapshot is being written, or while a groom runs, or both at
     * once. Restarts what it killed and returns the kind, with the phase it was seen in.
     */
    /**
     * What a kill hits: the server or the agent idle (only the load runs), the server in a snapshot
     * or a groom, or both (and then the server again while it starts).
     */
    private enum Target { SERVER, AGENT, SERVER_IN_SNAPSHOT, SERVER_IN_GROOM, BOTH }

    /**
     * Every target in turn, in a seeded random order: each comes up at least {@code kills / 5}
     * times, so a CI run always kills during snapshots and grooms.
     */
    private static List<Target> schedule(Random rnd, int kills) {
        List<Target> out = new ArrayList<>();
        for (int i = 0; i < kills; i++) {
            out.add(Target.values()[i % Target.values().length]);
        }
        java.util.Collections.shuffle(out, rnd);
        return out;
    }

    /** One kill of {@code target} at a random moment; restarts what it killed and returns the kind, with the phase it hit. */
    private static String killOnce(Target target, Random rnd, CrashCluster cluster, AdminClient admin) throws Exception {
        switch (target) {
            case SERVER -> {
                cluster.killServer();
                cluster.startServer();
                return "server-idle";
            }
            case AGENT -> {
                cluster.killAgent();
                cluster.startAgent();
                return "agent-idle";
            }
            case SERVER_IN_SNAPSHOT -> {
                String phase = killDuringSnapshot(rnd, cluster, admin);
                cluster.startServer();
                return phase;
            }
            case SERVER_IN_GROOM -> {
                String phase = killDuringGroom(rnd, cluster, admin);
                cluster.startServer();
                return phase;
            }
            default -> {
                // Both at once, then the server once more while it recovers (opening its stores, resuming heads).
                cluster.killAgent();
                cluster.killServer();
                cluster.startServer(false);
                Thread.sleep(rnd.nextInt(3000));
                cluster.killServer();
                cluster.startServer();
                cluster.startAgent();
                return "server-and-agent-then-server-starting";
            }
        }
    }

    /** Starts a snapshot and kills the server a random moment later; the phase says whether it was still running. */
    private static String killDuringSnapshot(Random rnd, CrashCluster cluster, AdminClient admin) throws InterruptedException {
        JsonObject started = retrying(() -> admin.post(snapshotsPath(), new JsonObject().put("force", rnd.nextInt(4) == 0)));
        Thread.sleep(rnd.nextInt(120));
        boolean running = "running".equals(started.getString("status")) && stillRunning(admin, started.getString("snapshotId"));
        cluster.killServer();
        return running ? "server-during-snapshot" : "server-after-snapshot";
    }

    /** Whether the snapshot was still being written a moment ago (unknown, counted as not, if the server did not say). */
    private static boolean stillRunning(AdminClient admin, String snapshotId) {
        try {
            return !admin.get(snapshotsPath() + "/" + snapshotId).getBoolean("complete", false);
        } catch (CliException e) {
            return false;
        }
    }

    /** Starts a groom (it answers when done) and kills the server a random moment later. */
    private static String killDuringGroom(Random rnd, CrashCluster cluster, AdminClient admin) throws InterruptedException {
        CompletableFuture<JsonObject> groom = CompletableFuture.supplyAsync(() -> admin.post(
                "/jobs/" + DEPLOYMENT + "/groom", new JsonObject().put("dryRun", false), 120));
        Thread.sleep(rnd.nextInt(80));
        boolean running = !groom.isDone();
        cluster.killServer();
        groom.handle((r, e) -> null).join();
        return running ? "server-during-groom" : "server-after-groom";
    }

    /** A snapshot with --wait through the CLI, once the server answers (it may still be starting). */
    private static JsonObject snapshotWhenServing(AdminClient admin) {
        JsonObject taken = retrying(() -> SnapshotCommand.take(admin, DEPLOYMENT, false, true));
        assertTrue(List.of("complete", "unchanged").contains(taken.getString("status")), taken.encode());
        return taken;
    }

    private static String snapshotsPath() {
        return "/jobs/" + DEPLOYMENT + "/snapshots";
    }

    /** Waits until the job's head has applied {@code ts} (the agent and the head catch up after kills). */
    private static void awaitApplied(AdminClient admin, OpTime ts, String what) {
        CaptureHarness.await(what, CATCH_UP, () -> {
            try {
                JsonObject applied = admin.get("/jobs/" + DEPLOYMENT).getJsonObject("appliedTs");
                return applied != null && !ts.isAfter(OpTime.fromJson(applied));
            } catch (CliException e) {
                return false; // not registered yet, or the server is still starting
            }
        });
    }

    /** Retries a call while the server is not answering yet (a restarted server opens its stores first). */
    private static JsonObject retrying(java.util.function.Supplier<JsonObject> call) {
        AtomicReference<JsonObject> result = new AtomicReference<>();
        AtomicReference<CliException> lastError = new AtomicReference<>();
        try {
            CaptureHarness.await("the server to answer", CATCH_UP, () -> {
                try {
                    result.set(call.get());
                    return true;
                } catch (CliException e) {
                    lastError.set(e);
                    return false;
                }
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + ": " + lastError.get().getMessage(), e);
        }
        return result.get();
    }

    /** Every namespace's content hash in a restored archive. */
    private static Map<String, VerifyHash.Result> content(StrictArchiveReader.Archive archive) {
        Map<String, VerifyHash.Result> out = new TreeMap<>();
        for (StrictArchiveReader.PreludeEntry e : archive.prelude()) {
            VerifyHash h = new VerifyHash();
            archive.data(e.namespace()).documents.forEach(h::add);
            out.put(e.namespace(), h.result());
        }
        return out;
    }
}
