package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.agent.AgentSettings;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.daemons.JobBindings;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.store.OplogStore;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.testing.ChildJvm;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.freePort;
import static io.tidemark.deploy.CaptureHarness.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 with real processes on loopback, all joining the embedded store of a
 * {@code tidemark server} (both roles, at a fixed port). The whole topology (a server, two
 * {@code --roles daemon} processes and a second {@code --roles frontend}, three deployments under
 * write load with agents on both front ends) runs a manual move under load with restores during
 * it, a drain, and a {@code kill -9} of a daemon process whose jobs fail over, every job verified
 * at the end. With a server, a daemon and a front end: two jobs spread over the two daemons by the
 * binding rule, {@code daemons list} shows both with heartbeats, and the separate daemon, frozen
 * with SIGSTOP past its lease while its job is taken over (a test-side compare-and-set to
 * epoch+1), then resumed, lands no write (applied position, catalog, oplog trim), stops its head
 * and deletes it (automatic failover off, so that only the test moves the job). With a server and
 * a daemon: a daemon killed with {@code kill -9} loses its job to the survivor once its lease runs
 * out; the survivor rebuilds the head from the latest snapshot plus the oplog store, with no new
 * initial sync, catches up, passes {@code verify} and snapshots the job again by its schedule; a
 * move of the job asked just before the kill ends failed.
 */
class ScaleOutTest {

    private static final String MAIN = TidemarkCli.class.getName();
    private static final int LEASE_SECONDS = 6;

    @TempDir
    Path work;

    private final List<Process> processes = new ArrayList<>();
    private final List<java.io.PrintWriter> logs = new ArrayList<>();
    private String testName = "test";

    @org.junit.jupiter.api.BeforeEach
    void name(org.junit.jupiter.api.TestInfo info) {
        testName = info.getTestMethod().map(java.lang.reflect.Method::getName).orElse("test");
    }

    @Test
    void jobsSpreadAndAFrozenDaemonPastItsLeaseLandsNothingAndStopsItsHead() throws Exception {
        int storePort = freePort();
        Path serverDir = work.resolve("server");
        Path daemonDir = work.resolve("daemon");
        Path frontDir = work.resolve("front");
        int frontApi = freePort();
        // Failover off: only the test's compare-and-set takes the frozen daemon's job.
        String noFailover = "daemons: {leaseSeconds: " + LEASE_SECONDS + ", renewSeconds: 1, heartbeatSeconds: 1, failover: false}";
        Path serverYaml = yaml("server", serverDir, storePort, null, freePort(), freePort(), noFailover);
        Path daemonYaml = yaml("daemon", daemonDir, storePort, serverDir, freePort(), freePort(), noFailover);
        Path frontYaml = yaml("front", frontDir, storePort, serverDir, freePort(), frontApi, noFailover);
        Queue<String> daemonLog = new ConcurrentLinkedQueue<>();

        try (MongoShapedSource source1 = new MongoShapedSource();
             MongoShapedSource source2 = new MongoShapedSource()) {
            start("server", List.of("server", "--config", serverYaml.toString()), line -> { });
            Process daemon = start("daemon", List.of("server", "--roles", "daemon", "--config", daemonYaml.toString()), daemonLog::add);
            start("front", List.of("server", "--roles", "frontend", "--config", frontYaml.toString()), line -> { });

            JsonObject serverCreds = CredentialsFile.read(serverDir);
            JsonObject frontCreds = CredentialsFile.read(frontDir);
            Vertx vertx = VertxFactory.create();
            Stores stores = joinStores(vertx, daemonYaml);
            seed(source1, source2);
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread load = load(writing, source1, source2);
            List<Agent> agents = new ArrayList<>();
            try {
                // One agent on each front end: ingest is wherever the agent's requests land.
                agents.add(agent(vertx, source1, "scale-one", serverCreds.getString("ingestUrl"), serverCreds));
                agents.add(agent(vertx, source2, "scale-two", frontCreds.getString("ingestUrl"), serverCreds.copy()
                        .put("certificateSha256", frontCreds.getString("certificateSha256"))));
                String daemonId = Files.readString(daemonDir.resolve("daemon-id")).strip();

                // Both jobs bound, one per daemon, both heads applying.
                await("both jobs bound and applied", Duration.ofSeconds(60), () -> {
                    List<JsonObject> jobs = join(stores.jobs().list());
                    return jobs.size() == 2 && jobs.stream().allMatch(j -> j.getJsonObject("binding") != null && j.getJsonObject("appliedTs") != null);
                });
                List<JsonObject> jobs = join(stores.jobs().list());
                Map<String, String> owner = new HashMap<>();
                jobs.forEach(j -> owner.put(j.getString("_id"), JobBindings.Binding.of(j).daemon()));
                assertEquals(2, new java.util.HashSet<>(owner.values()).size(), "the rule spreads two jobs over two daemons: " + owner);
                assertTrue(owner.containsValue(daemonId), owner.toString());

                // daemons list, through the separate front end.
                String listed = CliRun.ok("daemons", "list", "--json", "--url", "https://127.0.0.1:" + frontApi,
                        "--token", serverCreds.getString("adminToken"), "--pin", frontCreds.getString("certificateSha256"));
                JsonArray daemons = new JsonArray(listed);
                assertEquals(2, daemons.size(), listed);
                for (Object o : daemons) {
                    JsonObject d = (JsonObject) o;
                    assertTrue(d.getBoolean("alive"), listed);
                    assertTrue(System.currentTimeMillis() - d.getLong("heartbeatAt") < 30_000, listed);
                    assertEquals(1, d.getInteger("jobsBound"), listed);
                }

                String job = owner.entrySet().stream().filter(e -> e.getValue().equals(daemonId)).findFirst().orElseThrow().getKey();
                Path head = daemonDir.resolve("heads").resolve(job);
                assertTrue(Files.isDirectory(head), "the daemon keeps the job's head in its own head root");

                // Frozen past its lease; the job taken over with epoch+1 by a compare-and-set.
                io.tidemark.shared.testing.LogWatch.frozenOnPurpose(daemon.pid());
                signal(daemon, "STOP");
                JobBindings.Binding held = JobBindings.Binding.of(join(stores.jobs().find(job)));
                await("the frozen daemon's lease to run out", Duration.ofSeconds(LEASE_SECONDS * 3),
                        () -> System.currentTimeMillis() > join(new JobBindings(stores.metadata()).leaseUntil(job)) + 500);
                assertTrue(join(new JobBindings(stores.metadata()).take(job, held.epoch(), "d-new-owner", 120_000)));
                JsonObject before = join(stores.jobs().find(job));
                List<JsonObject> catalogBefore = join(new SnapshotCatalog(stores.metadata()).list(job, true));
                OplogStore.BatchInfo oldestBefore = stores.oplog().oldest(job).block(Duration.ofSeconds(30));
                OpTime storedBefore = OpTime.fromJson(before.getJsonObject("storedTs"));

                signal(daemon, "CONT");
                await("the resumed daemon to see it lost the job", Duration.ofSeconds(30),
                        () -> daemonLog.stream().anyMatch(l -> l.contains("job " + job + ": daemon " + daemonId + " lost its binding")));
                await("the resumed daemon to delete its stale head", Duration.ofSeconds(30), () -> !Files.exists(head));
                // The oplog kept coming in, so the resumed head had something to apply and record.
                await("more oplog stored for the job", Duration.ofSeconds(30), () -> OpTime.fromJson(join(stores.jobs().find(job))
                        .getJsonObject("storedTs")).isAfter(storedBefore));
                Thread.sleep(3_000);

                JsonObject after = join(stores.jobs().find(job));
                assertEquals(before.getJsonObject("appliedTs"), after.getJsonObject("appliedTs"), "no applied position of the ex-owner landed");
                assertEquals(before.getJsonObject("head"), after.getJsonObject("head"), "no head size of the ex-owner landed");
                assertEquals(before.getString("state"), after.getString("state"));
                assertEquals(new JobBindings.Binding(job, "d-new-owner", held.epoch() + 1), JobBindings.Binding.of(after));
                assertEquals(catalogBefore, join(new SnapshotCatalog(stores.metadata()).list(job, true)), "no catalog entry of the ex-owner's");
                assertEquals(oldestBefore, stores.oplog().oldest(job).block(Duration.ofSeconds(30)), "no oplog trim of the ex-owner's");
                JsonObject registered = join(new io.tidemark.shared.daemons.DaemonRegistry(stores.metadata()).find(daemonId));
                assertFalse(registered.getJsonObject("held", new JsonObject()).containsKey(job), "its heartbeat no longer lists the job");
                assertTrue(daemonLog.stream().anyMatch(l -> l.contains("its head stops")), "the head was stopped");
            } finally {
                stopClients(writing, load, agents, stores, vertx);
            }
        }
    }

    @Test
    void aKilledDaemonsJobFailsOverAndItsHeadIsRebuiltFromSnapshotAndOplog() throws Exception {
        Path serverDir = work.resolve("server");
        Path daemonDir = work.resolve("daemon");
        // A snapshot a minute: the survivor's schedule must take the job's snapshots again by itself.
        Path[] yamls = clusteredServerAndDaemon("failover-test", serverDir, daemonDir, "snapshots: {intervalMinutes: 1}");
        Path serverYaml = yamls[0];
        Path daemonYaml = yamls[1];
        try (MongoShapedSource source = new MongoShapedSource()) {
            start("server", List.of("server", "--config", serverYaml.toString()), line -> { });
            Process daemon = start("daemon", List.of("server", "--roles", "daemon", "--config", daemonYaml.toString()), line -> { });
            JsonObject creds = CredentialsFile.read(serverDir);
            Vertx vertx = VertxFactory.create();
            Stores stores = joinStores(vertx, daemonYaml);
            seed(source);
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread load = load(writing, source);
            List<Agent> agents = new ArrayList<>();
            try {
                String serverId = Files.readString(serverDir.resolve("daemon-id")).strip();
                String daemonId = Files.readString(daemonDir.resolve("daemon-id")).strip();
                String[] api = api(creds);
                String job = boundTo(vertx, stores, source, "fail-one", creds.getString("ingestUrl"), creds, api, daemonId, List.of(serverId), agents);

                // A snapshot to rebuild from, taken by the owning daemon (asked through the server's front end).
                JsonObject first = new JsonObject(CliRun.ok(concat(new String[] {"snapshot", "create", "--job", job, "--wait", "--json"}, api)));
                assertEquals("complete", first.getString("status"), first.encode());
                long generation = join(stores.jobs().find(job)).getJsonObject("sync").getLong("generation");
                slicesReleased(stores, job, generation);

                JobBindings.Binding before = JobBindings.Binding.of(join(stores.jobs().find(job)));
                // Killed just after a move of its job was asked: the failover wins, and the move ends failed.
                CliRun.ok(concat(new String[] {"jobs", "move", "--job", job, "--to", serverId}, api));
                daemon.destroyForcibly();
                long killed = System.nanoTime();
                await("the killed daemon's job to fail over", Duration.ofSeconds(LEASE_SECONDS + 30), () ->
                        serverId.equals(JobBindings.Binding.of(join(stores.jobs().find(job))).daemon()));
                long failoverSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed);
                long takenAt = System.currentTimeMillis();
                JsonObject taken = join(stores.jobs().find(job));
                assertEquals(new JobBindings.Binding(job, serverId, before.epoch() + 1), JobBindings.Binding.of(taken));
                assertTrue(failoverSeconds <= LEASE_SECONDS + 10, "failover within lease expiry + 10 s: " + failoverSeconds + " s");
                OpTime storedAtTakeover = OpTime.fromJson(taken.getJsonObject("storedTs"));
                await("the rebuilt head to apply past the oplog stored at the takeover", Duration.ofSeconds(90), () -> {
                    JsonObject j = join(stores.jobs().find(job));
                    return j.getJsonObject("appliedTs") != null && !storedAtTakeover.isAfter(OpTime.fromJson(j.getJsonObject("appliedTs")));
                });
                // The survivor holds the head, and the sync store holds no slice of the job (removed once
                // the first head caught up): the only other source of a head is its snapshot plus the oplog store.
                assertTrue(Files.isDirectory(serverDir.resolve("heads").resolve(job)), "the survivor keeps the job's head");
                assertFalse(stores.sync().collections(job, generation).hasElements().block(Duration.ofSeconds(30)),
                        "no initial sync data left to build a head from");
                JsonObject now = join(stores.jobs().find(job));
                assertEquals(generation, now.getJsonObject("sync").getLong("generation"), "no new initial sync");
                assertEquals("ACTIVE", now.getString("state"));
                await("the interrupted move to end failed", Duration.ofSeconds(30), () -> {
                    JsonObject j = join(stores.jobs().find(job));
                    return j.getJsonObject("move") == null && j.getJsonObject("lastMove") != null;
                });
                JsonObject lastMove = join(stores.jobs().find(job)).getJsonObject("lastMove");
                assertEquals("failed", lastMove.getString("state"), lastMove.encode());
                assertTrue(lastMove.getString("error").contains("owner changed"), lastMove.encode());
                await("nothing left half arrived", Duration.ofSeconds(30), () -> !Files.exists(serverDir.resolve("heads").resolve(job + ".arriving")));
                System.out.println("failover: job taken over " + failoverSeconds + " s after kill -9 (lease " + LEASE_SECONDS + " s)");

                // The source quiet and the head caught up: the rebuilt head equals the source.
                writing.set(false);
                load.join(10_000);
                caughtUpAndVerified(stores, job, source, api);
                // And scheduled snapshots resume on the new owner: one it took by itself, after the takeover.
                SnapshotCatalog catalog = new SnapshotCatalog(stores.metadata());
                await("a scheduled snapshot by the new owner", Duration.ofSeconds(120), () -> join(catalog.list(job, false)).stream()
                        .anyMatch(e -> e.getLong("createdAt") > takenAt));
            } finally {
                stopClients(writing, load, agents, stores, vertx);
            }
        }
    }

    /**
     * Issue 14 with the whole topology: a {@code server}, two {@code --roles daemon} processes and a
     * second {@code --roles frontend}, three deployments under write load with their agents spread
     * over both front ends. {@code jobs move} under load: the destination rebuilds the head from the
     * latest snapshot plus the oplog store while the owner keeps applying; a restore of that
     * snapshot and a point-in-time restore run while the job moves; the owner hands over at the next
     * epoch and deletes its head; no new initial sync happens; the moved head passes {@code verify}
     * and the new owner snapshots the job. {@code daemons drain} moves it on and turns the drained
     * daemon's assignment off. Then the second daemon is killed with {@code kill -9}: each of its
     * jobs fails over to a survivor within lease expiry + 10 s, is rebuilt from its snapshot and the
     * oplog store with no new initial sync, and every job passes {@code verify} through the second
     * front end, which holds no head.
     */
    @Test
    void movesDrainsAndAKilledDaemonAmongTwoDaemonProcessesAndTwoFrontEndsEndWithEveryJobVerified() throws Exception {
        Path serverDir = work.resolve("server");
        Path daemonDir = work.resolve("daemon");
        Path daemon2Dir = work.resolve("daemon2");
        Path frontDir = work.resolve("front");
        Path[] yamls = clustered("move-test", serverDir, List.of(daemonDir, daemon2Dir), frontDir);
        try (MongoShapedSource source = new MongoShapedSource();
             MongoShapedSource other1 = new MongoShapedSource();
             MongoShapedSource other2 = new MongoShapedSource()) {
            start("server", List.of("server", "--config", yamls[0].toString()), line -> { });
            start("daemon", List.of("server", "--roles", "daemon", "--config", yamls[1].toString()), line -> { });
            Process daemon2 = start("daemon2", List.of("server", "--roles", "daemon", "--config", yamls[2].toString()), line -> { });
            start("front", List.of("server", "--roles", "frontend", "--config", yamls[3].toString()), line -> { });
            JsonObject creds = CredentialsFile.read(serverDir);
            JsonObject frontCreds = CredentialsFile.read(frontDir);
            Vertx vertx = VertxFactory.create();
            Stores stores = joinStores(vertx, yamls[1]);
            seed(source, other1, other2);
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread load = load(writing, source, other1, other2);
            List<Agent> agents = new ArrayList<>();
            try {
                String serverId = Files.readString(serverDir.resolve("daemon-id")).strip();
                String daemonId = Files.readString(daemonDir.resolve("daemon-id")).strip();
                String daemon2Id = Files.readString(daemon2Dir.resolve("daemon-id")).strip();
                String[] api = api(creds);
                String[] viaFrontApi = {"--url", frontCreds.getString("apiUrl"), "--token", creds.getString("adminToken"),
                    "--pin", frontCreds.getString("certificateSha256")};
                JsonObject viaFront = creds.copy().put("certificateSha256", frontCreds.getString("certificateSha256"));
                // One deployment through the server's front end on the first daemon, one through the
                // second front end on the second daemon, and a third through the second front end
                // wherever the binding rule puts it.
                String job = boundTo(vertx, stores, source, "move-one", creds.getString("ingestUrl"), creds, api, daemonId,
                        List.of(serverId, daemon2Id), agents);
                String two = boundTo(vertx, stores, other1, "move-two", frontCreds.getString("ingestUrl"), viaFront, api, daemon2Id,
                        List.of(serverId, daemonId), agents);
                agents.add(agent(vertx, other2, "move-three", frontCreds.getString("ingestUrl"), viaFront));
                await("move-three bound and applied", Duration.ofSeconds(60), () -> {
                    JsonObject j = join(stores.jobs().resolve("move-three").otherwise(new JsonObject()));
                    return JobBindings.Binding.of(j) != null && j.getJsonObject("appliedTs") != null;
                });
                String three = join(stores.jobs().resolve("move-three")).getString("_id");
                Map<String, MongoShapedSource> sources = Map.of(job, source, two, other1, three, other2);
                Map<String, Long> generations = new HashMap<>();
                for (String j : sources.keySet()) {
                    generations.put(j, join(stores.jobs().find(j)).getJsonObject("sync").getLong("generation"));
                }
                JsonArray listedDaemons = new JsonArray(CliRun.ok(concat(new String[] {"daemons", "list", "--json"}, viaFrontApi)));
                assertEquals(3, listedDaemons.size(), listedDaemons.encode());

                JsonObject first = new JsonObject(CliRun.ok(concat(new String[] {"snapshot", "create", "--job", job, "--wait", "--json"}, api)));
                assertEquals("complete", first.getString("status"), first.encode());
                slicesReleased(stores, job, generations.get(job));
                OpTime firstTs = OpTime.fromJson(first.getJsonObject("ts"));
                await("oplog stored past the snapshot", Duration.ofSeconds(30),
                        () -> OpTime.fromJson(join(stores.jobs().find(job)).getJsonObject("storedTs")).isAfter(firstTs));
                OpTime pit = OpTime.fromJson(join(stores.jobs().find(job)).getJsonObject("storedTs"));
                JobBindings.Binding before = JobBindings.Binding.of(join(stores.jobs().find(job)));

                JsonObject asked = new JsonObject(CliRun.ok(concat(new String[] {"jobs", "move", "--job", job, "--to", serverId, "--json"}, api)));
                assertEquals(serverId, asked.getJsonObject("move").getString("to"), asked.encode());
                assertEquals(daemonId, asked.getJsonObject("move").getString("from"), asked.encode());
                // Restores while it moves: of the earlier snapshot, and to a point in time after it.
                Path archive = work.resolve("during-move.archive");
                Path pitArchive = work.resolve("during-move-pit.archive");
                CliRun.ok(concat(new String[] {"restore", "--job", job, "--snapshot", first.getString("snapshotId"),
                        "--out", archive.toString()}, api));
                CliRun.ok(concat(new String[] {"restore", "--job", job, "--at-ts", pit.seconds() + ":" + pit.increment(),
                        "--out", pitArchive.toString()}, viaFrontApi));
                assertTrue(Files.size(archive) > 0 && Files.size(pitArchive) > 0);

                await("the move to complete", Duration.ofSeconds(120), () -> {
                    JsonObject last = join(stores.jobs().find(job)).getJsonObject("lastMove");
                    assertFalse(last != null && "failed".equals(last.getString("state")), "the move failed: " + last);
                    return last != null && "completed".equals(last.getString("state"));
                });
                JsonObject moved = join(stores.jobs().find(job));
                JobBindings.Binding after = JobBindings.Binding.of(moved);
                assertEquals(serverId, after.daemon());
                assertTrue(after.epoch() > before.epoch(), "a new epoch: " + after);
                assertEquals(generations.get(job), moved.getJsonObject("sync").getLong("generation"), "no new initial sync");
                assertFalse(stores.sync().collections(job, generations.get(job)).hasElements().block(Duration.ofSeconds(30)),
                        "no initial sync data to build a head from: the head came from the snapshot and the oplog store");
                assertTrue(Files.isDirectory(serverDir.resolve("heads").resolve(job)), "the destination keeps the head");
                await("the old owner to delete its head", Duration.ofSeconds(30),
                        () -> !Files.exists(daemonDir.resolve("heads").resolve(job)));
                assertTrue(moved.getJsonObject("lastMove").getLong("bytesLoaded") > 0, moved.encode());
                String listed = CliRun.ok(concat(new String[] {"jobs", "list"}, api));
                assertTrue(listed.contains("last move: from daemon " + daemonId + " to daemon " + serverId), listed);

                OpTime storedAtMove = OpTime.fromJson(moved.getJsonObject("storedTs"));
                await("the moved head to apply past what was stored at the handover", Duration.ofSeconds(60), () -> {
                    JsonObject j = join(stores.jobs().find(job));
                    return !storedAtMove.isAfter(OpTime.fromJson(j.getJsonObject("appliedTs")));
                });
                JsonObject next = new JsonObject(CliRun.ok(concat(new String[] {"snapshot", "create", "--job", job, "--wait", "--json"}, api)));
                assertEquals("complete", next.getString("status"), next.encode());

                // Drained: the job goes on to a daemon the binding rule picks, and the drained one takes no new jobs.
                String drained = CliRun.ok(concat(new String[] {"daemons", "drain", serverId}, api));
                assertTrue(drained.contains(job + " -> daemon "), drained);
                await("the drain's move to complete", Duration.ofSeconds(120), () -> {
                    JsonObject j = join(stores.jobs().find(job));
                    JsonObject last = j.getJsonObject("lastMove");
                    return j.getJsonObject("move") == null && last != null && "completed".equals(last.getString("state"))
                            && !serverId.equals(JobBindings.Binding.of(j).daemon());
                });
                String drainedTo = JobBindings.Binding.of(join(stores.jobs().find(job))).daemon();
                assertTrue(drained.contains(job + " -> daemon " + drainedTo), drained);
                JsonArray daemons = new JsonArray(CliRun.ok(concat(new String[] {"daemons", "list", "--json"}, api)));
                for (Object o : daemons) {
                    JsonObject d = (JsonObject) o;
                    assertEquals(!serverId.equals(d.getString("id")), d.getBoolean("assignment"), daemons.encode());
                }
                await("the drained daemon to delete its head", Duration.ofSeconds(30),
                        () -> !Files.exists(serverDir.resolve("heads").resolve(job)));
                CliRun.ok(concat(new String[] {"daemons", "set", serverId, "--assignment", "on"}, api));

                // kill -9 of the second daemon: a snapshot of each of its jobs first, to rebuild them from.
                List<String> onDaemon2 = new ArrayList<>();
                Map<String, JobBindings.Binding> held = new HashMap<>();
                for (String j : sources.keySet()) {
                    JobBindings.Binding b = JobBindings.Binding.of(join(stores.jobs().find(j)));
                    if (daemon2Id.equals(b.daemon())) {
                        onDaemon2.add(j);
                        held.put(j, b);
                        JsonObject snap = new JsonObject(CliRun.ok(concat(new String[] {"snapshot", "create", "--job", j, "--wait", "--json"},
                                viaFrontApi)));
                        assertEquals("complete", snap.getString("status"), snap.encode());
                    }
                }
                assertTrue(onDaemon2.contains(two), "move-two is on the second daemon: " + onDaemon2);
                daemon2.destroyForcibly();
                long killed = System.nanoTime();
                await("the killed daemon's jobs to fail over", Duration.ofSeconds(LEASE_SECONDS + 30), () -> onDaemon2.stream()
                        .noneMatch(j -> daemon2Id.equals(JobBindings.Binding.of(join(stores.jobs().find(j))).daemon())));
                long failoverSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - killed);
                assertTrue(failoverSeconds <= LEASE_SECONDS + 10, "failover within lease expiry + 10 s: " + failoverSeconds + " s");
                for (String j : onDaemon2) {
                    JsonObject taken = join(stores.jobs().find(j));
                    JobBindings.Binding b = JobBindings.Binding.of(taken);
                    assertTrue(b.epoch() > held.get(j).epoch() && List.of(serverId, daemonId).contains(b.daemon()), b.toString());
                    OpTime storedAtTakeover = OpTime.fromJson(taken.getJsonObject("storedTs"));
                    await("the rebuilt head of " + j + " to apply past the oplog stored at the takeover", Duration.ofSeconds(90), () -> {
                        JsonObject now = join(stores.jobs().find(j));
                        return now.getJsonObject("appliedTs") != null && !storedAtTakeover.isAfter(OpTime.fromJson(now.getJsonObject("appliedTs")));
                    });
                }
                System.out.println("failover: " + onDaemon2.size() + " jobs of a killed daemon taken over " + failoverSeconds
                        + " s after kill -9 (lease " + LEASE_SECONDS + " s), among two daemon processes");

                writing.set(false);
                load.join(10_000);
                // Every job exact, each verified through the second front end (which asks each job's daemon over the bus).
                for (Map.Entry<String, MongoShapedSource> e : sources.entrySet()) {
                    caughtUpAndVerified(stores, e.getKey(), e.getValue(), viaFrontApi);
                    JsonObject j = join(stores.jobs().find(e.getKey()));
                    assertEquals(generations.get(e.getKey()), j.getJsonObject("sync").getLong("generation"), "no new initial sync of " + e.getKey());
                    assertEquals("ACTIVE", j.getString("state"));
                }
            } finally {
                stopClients(writing, load, agents, stores, vertx);
            }
        }
    }

    /**
     * Backs up {@code source} as deployment {@code name}, through the front end at {@code ingestUrl},
     * with its job bound to daemon {@code target}: the {@code others} take no new job meanwhile, and
     * may again once it is bound; its id.
     */
    private static String boundTo(Vertx vertx, Stores stores, MongoShapedSource source, String name, String ingestUrl, JsonObject creds,
                                  String[] api, String target, List<String> others, List<Agent> agents) {
        others.forEach(d -> CliRun.ok(concat(new String[] {"daemons", "set", d, "--assignment", "off"}, api)));
        agents.add(agent(vertx, source, name, ingestUrl, creds));
        await("job " + name + " bound to daemon " + target + " and applied", Duration.ofSeconds(60), () -> {
            JsonObject j = join(stores.jobs().resolve(name).otherwise(new JsonObject()));
            JobBindings.Binding b = JobBindings.Binding.of(j);
            return b != null && target.equals(b.daemon()) && j.getJsonObject("appliedTs") != null;
        });
        others.forEach(d -> CliRun.ok(concat(new String[] {"daemons", "set", d, "--assignment", "on"}, api)));
        return join(stores.jobs().resolve(name)).getString("_id");
    }

    /** Waits until the job's first snapshot let its initial sync's slices go: from now on only a snapshot rebuilds its head. */
    private static void slicesReleased(Stores stores, String job, long generation) {
        await("the first snapshot of " + job + " to let its sync slices go", Duration.ofSeconds(30),
                () -> !stores.sync().collections(job, generation).hasElements().block(Duration.ofSeconds(30)));
    }

    /** Waits until the job's head applied everything its quiet source wrote, then verifies it against the source. */
    private static void caughtUpAndVerified(Stores stores, String job, MongoShapedSource source, String[] api) {
        await("the head of " + job + " to catch up with its quiet source", Duration.ofSeconds(60), () -> {
            JsonObject j = join(stores.jobs().find(job));
            return j.getJsonObject("appliedTs") != null && j.getJsonObject("appliedTs").equals(j.getJsonObject("storedTs"))
                    && OpTime.fromJson(j.getJsonObject("storedTs")).compareTo(source.latestTs()) >= 0;
        });
        CliRun.ok(concat(new String[] {"verify", "--job", job, "--source", source.uri()}, api));
    }

    /** The admin options for the server's own front end. */
    private static String[] api(JsonObject creds) {
        return new String[] {"--url", creds.getString("apiUrl"), "--token", creds.getString("adminToken"),
            "--pin", creds.getString("certificateSha256")};
    }

    /** A server and a {@code --roles daemon} process on one clustered bus, so that a front end reaches either daemon. */
    private Path[] clusteredServerAndDaemon(String cluster, Path serverDir, Path daemonDir, String... extra) throws IOException {
        return clustered(cluster, serverDir, List.of(daemonDir), null, extra);
    }

    /**
     * A server, a {@code --roles daemon} process per {@code daemonDirs} and, when {@code frontDir}
     * is given, a {@code --roles frontend} process, all on one clustered bus: their yamls in that order.
     */
    private Path[] clustered(String cluster, Path serverDir, List<Path> daemonDirs, Path frontDir, String... extra) throws IOException {
        int storePort = freePort();
        int members = 1 + daemonDirs.size() + (frontDir == null ? 0 : 1);
        int[] bus = new int[members];
        for (int i = 0; i < members; i++) {
            bus[i] = freePort();
        }
        String daemons = "daemons: {leaseSeconds: " + LEASE_SECONDS + ", renewSeconds: 1, heartbeatSeconds: 1, failover: true}";
        String memberList = String.join(",", java.util.Arrays.stream(bus).mapToObj(port -> "127.0.0.1:" + port).toList());
        java.util.function.IntFunction<String> on = port -> "cluster: {enabled: true, name: " + cluster + ", host: 127.0.0.1, port: "
                + port + ", members: \"" + memberList + "\"}";
        String more = String.join("\n", extra);
        List<Path> yamls = new ArrayList<>();
        yamls.add(yaml("server", serverDir, storePort, null, freePort(), freePort(), daemons, on.apply(bus[0]), more));
        for (int i = 0; i < daemonDirs.size(); i++) {
            String name = daemonDirs.get(i).getFileName().toString();
            yamls.add(yaml(name, daemonDirs.get(i), storePort, serverDir, freePort(), freePort(), daemons, on.apply(bus[1 + i]), more));
        }
        if (frontDir != null) {
            yamls.add(yaml("front", frontDir, storePort, serverDir, freePort(), freePort(), daemons, on.apply(bus[members - 1]), more));
        }
        return yamls.toArray(Path[]::new);
    }

    @AfterEach
    void stopProcesses() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        logs.forEach(java.io.PrintWriter::close);
    }

    /** Stops the write load and this JVM's agents and store connection. */
    private static void stopClients(AtomicBoolean writing, Thread load, List<Agent> agents, Stores stores, Vertx vertx)
            throws InterruptedException {
        writing.set(false);
        load.join(10_000);
        agents.forEach(a -> join(a.stop()));
        stores.close();
        join(vertx.close());
    }

    /** The test's own connection to the server's embedded store, as a separate process joins it. */
    private Stores joinStores(Vertx vertx, Path yaml) {
        TidemarkConfig joined = ConfigLoader.load(yaml, Map.of("TIDEMARK_DATADIR", work.resolve("test").toString()));
        return join(Stores.open(vertx, joined, false));
    }

    /** The collection exists before the agents' initial syncs, as on a real source. */
    private static void seed(MongoShapedSource... sources) {
        for (MongoShapedSource s : sources) {
            s.createCollection("shop.orders");
            s.insertMany("shop.orders", List.of(new Document("_id", -1L)));
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private Path yaml(String name, Path dataDir, int storePort, Path serverDir, int ingestPort, int apiPort, String... extra)
            throws IOException {
        String yaml = String.join("\n",
                "dataDir: " + dataDir,
                "mongodb: {embeddedPort: " + storePort + (serverDir == null ? "" : ", embeddedDataDir: " + serverDir) + "}",
                "blockstore: {type: mongodb}",
                "ingest: {host: 127.0.0.1, port: " + ingestPort + "}",
                "api: {host: 127.0.0.1, port: " + apiPort + "}",
                "agent: {batchMaxMillis: 50, heartbeatSeconds: 1, pollMillis: 20, sliceBytes: 65536}",
                String.join("\n", extra),
                "");
        Path file = work.resolve(name + ".yaml");
        Files.writeString(file, yaml);
        return file;
    }

    /** Starts a process and returns once it says it runs; {@code output} gets its lines (stdout and stderr). */
    private Process start(String what, List<String> args, java.util.function.Consumer<String> listener) throws Exception {
        CountDownLatch up = new CountDownLatch(1);
        // Each child's lines also go to target/scale-out/<test>/<process>.log, to read after a failure.
        Path logDir = Path.of("target", "scale-out", testName);
        Files.createDirectories(logDir);
        java.io.PrintWriter log = new java.io.PrintWriter(Files.newBufferedWriter(logDir.resolve(what + ".log")), true);
        logs.add(log);
        java.util.function.Consumer<String> output = line -> {
            log.println(line);
            listener.accept(line);
        };
        Process p = ChildJvm.start(work, List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                        "-Dorg.slf4j.simpleLogger.log.io.tidemark=info"), MAIN, args,
                line -> {
                    if (line.startsWith("Tidemark server running")) {
                        up.countDown();
                    }
                    output.accept(line);
                }, output);
        processes.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!up.await(100, TimeUnit.MILLISECONDS)) {
            assertTrue(p.isAlive(), what + " exited with status " + (p.isAlive() ? "" : p.exitValue()) + " while starting");
            assertTrue(System.nanoTime() < deadline, what + " did not start within 90 s");
        }
        return p;
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor(), "kill -" + signal);
    }

    private static Agent agent(Vertx vertx, MongoShapedSource source, String name, String ingestUrl, JsonObject creds) {
        Agent agent = new Agent(vertx, new AgentSettings(source.uri(), name, ingestUrl, creds.getString("agentKey"),
                creds.getString("certificateSha256"), null, ConfigLoader.defaults().agent()));
        join(agent.start());
        return agent;
    }

    /** A write every 50 ms on each source, so that oplog keeps arriving for both jobs. */
    private static Thread load(AtomicBoolean writing, MongoShapedSource... sources) {
        Thread t = new Thread(() -> {
            long n = 0;
            while (writing.get()) {
                for (MongoShapedSource s : sources) {
                    s.insertMany("shop.orders", List.of(new Document("_id", n).append("at", n)));
                }
                n++;
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "scale-out-load");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
