package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.agent.AgentSettings;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.ingest.JobsApi;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.store.Stores;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

@Command(name = "demo", description = "Everything in one process: the server on its embedded store and a second backup daemon "
        + "sharing it, demo replica sets with sample data and a steady write load, and agents backing them up.")
final class DemoCommand implements Runnable {

    /** The demo's deployments, one per daemon: the first is the full-size shop, the others smaller. */
    private static final List<String> DEPLOYMENTS = List.of("demo-shop", "demo-crm", "demo-billing", "demo-ledger");

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--duration", defaultValue = "0", description = "Stop after this many seconds (0: run until Ctrl-C).")
    int duration;

    @Option(names = "--ops-per-second", defaultValue = "50", description = "Write load on each demo source.")
    int opsPerSecond;

    @Option(names = "--snapshot-minutes", defaultValue = "1",
            description = "Snapshot interval for the demo (a server's default is 6 hours).")
    int snapshotMinutes;

    @Option(names = "--daemons", defaultValue = "2", description = "Backup daemons (1-4): the server's own, and the others "
            + "in this process as 'tidemark server --roles daemon' runs them, sharing its embedded store; one demo "
            + "deployment per daemon, spread over them by the binding rule.")
    int daemons;

    @Option(names = "--move-after", defaultValue = "45", paramLabel = "SECONDS", description = "With several daemons: move the "
            + "first deployment's job to another daemon this long after it has a snapshot, as 'tidemark jobs move' would "
            + "(0: no move).")
    int moveAfter;

    /** One demo deployment: its source, its write load and its agent. */
    private record Deployment(String name, MongoShapedSource source, DemoWorkload load, Agent agent) {
    }

    @Override
    public void run() {
        if (daemons < 1 || daemons > DEPLOYMENTS.size()) {
            throw new CliException("--daemons takes 1 to " + DEPLOYMENTS.size() + ", not " + daemons);
        }
        Map<String, String> defaults = new HashMap<>();
        defaults.put("TIDEMARK_SNAPSHOTS_INTERVALMINUTES", String.valueOf(snapshotMinutes));
        if (daemons > 1) {
            // Several daemons need blocks every one of them reaches (docs/scale-out.md): the
            // embedded store's, which the other daemons join at a fixed port.
            defaults.put("TIDEMARK_BLOCKSTORE_TYPE", "mongodb");
            defaults.put("TIDEMARK_MONGODB_EMBEDDEDPORT", String.valueOf(freePort()));
        }
        TidemarkConfig config = common.load(defaults);
        say("starting the Tidemark server (data dir " + config.dataPath() + "; a snapshot every " + snapshotMinutes
                + " min)");
        TidemarkServer server = TidemarkServer.start(config);
        List<TidemarkServer> others = new ArrayList<>();
        List<Deployment> deployments = new ArrayList<>();
        try {
            say("the server runs the front end and daemon " + server.daemonId() + "; blocks in the " + config.blockstoreType() + " store");
            for (int i = 2; i <= daemons; i++) {
                Path dir = config.dataPath().resolve("daemon-" + i);
                TidemarkConfig own = common.load(defaults, Map.of("TIDEMARK_DATADIR", dir.toString(),
                        "TIDEMARK_MONGODB_EMBEDDEDPORT", String.valueOf(config.mongodb().embeddedPort()),
                        "TIDEMARK_MONGODB_EMBEDDEDDATADIR", config.dataPath().toString()));
                TidemarkServer daemon = TidemarkServer.start(own, new Roles(false, true));
                others.add(daemon);
                say("daemon " + daemon.daemonId() + " started (data dir " + dir + "), joining the server's embedded store at port "
                        + config.mongodb().embeddedPort() + ", as 'tidemark server --roles daemon' would");
            }
            say("the server's embedded store admits only clients holding its secret (" + Stores.embeddedDir(config.dataPath())
                    + "/secret, mode 0600); the data dir is owner-only");
            JsonObject creds = CredentialsFile.read(config.dataPath());
            for (int i = 0; i < daemons; i++) {
                deployments.add(startDeployment(server, config, creds, DEPLOYMENTS.get(i), i == 0 ? 1 : 2));
            }
            String api = server.apiUrl();
            String ca = creds.getString("certificateFile");
            say("look at:");
            System.out.println("    curl --cacert " + ca + " " + api + "/health");
            System.out.println("    curl --cacert " + ca + " " + api + "/metrics");
            System.out.println("    curl --cacert " + ca + " -H \"Authorization: Bearer $(jq -r .adminToken "
                    + CredentialsFile.path(config.dataPath()) + ")\" " + api + "/api/v1/jobs");
            System.out.println("    java -jar deploy/target/tidemark.jar jobs list" + dataDirFlag());
            System.out.println("    java -jar deploy/target/tidemark.jar daemons list" + dataDirFlag());
            System.out.println("    java -jar deploy/target/tidemark.jar history --job demo-shop --ns shop.customers --id 7" + dataDirFlag());
            Set<String> shown = new HashSet<>();
            long stopAt = duration > 0 ? System.currentTimeMillis() + duration * 1000L : Long.MAX_VALUE;
            boolean moved = daemons < 2 || moveAfter <= 0;
            long firstSnapshotAt = 0;
            while (System.currentTimeMillis() < stopAt) {
                Thread.sleep(Math.min(5_000, Math.max(1, stopAt - System.currentTimeMillis())));
                report(server, deployments, shown);
                if (!moved) {
                    firstSnapshotAt = firstSnapshotAt == 0 && hasSnapshot(server, DEPLOYMENTS.get(0)) ? System.currentTimeMillis() : firstSnapshotAt;
                    if (firstSnapshotAt > 0 && System.currentTimeMillis() - firstSnapshotAt >= moveAfter * 1000L) {
                        moved = true;
                        move(server, config, DEPLOYMENTS.get(0));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new CliException("the demo failed: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
        } finally {
            for (Deployment d : deployments) {
                d.load().close();
                d.agent().stop();
                d.source().close();
            }
            others.forEach(TidemarkServer::close);
            server.close();
            say("demo stopped");
        }
    }

    /** A demo source with sample data and a write load, and an agent with a key scoped to it alone. */
    private Deployment startDeployment(TidemarkServer server, TidemarkConfig config, JsonObject creds, String name, int shrink)
            throws Exception {
        MongoShapedSource source = new MongoShapedSource();
        say(name + ": a demo source (an in-process MongoDB-wire server writing a MongoDB-shaped oplog) at " + source.uri()
                + "; loading sample data");
        DemoDataset data = new DemoDataset();
        int customers = 2_000 / shrink;
        int products = 500 / shrink;
        long docs = data.load(source, customers, products, 10_000 / shrink, 5_000 / shrink);
        say(name + ": loaded " + docs + " documents into shop.customers, shop.products, shop.orders, analytics.events");
        DemoWorkload load = new DemoWorkload(source, data, customers, products);
        load.start(opsPerSecond);
        // A key of its own, scoped to this one deployment: it can register and back up this
        // deployment and nothing else (a 403 on any other deployment's job).
        ApiKeys.Created key = server.stores().keys().create(ApiKeys.Kind.AGENT, name + " agent", List.of(name))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        Agent agent = new Agent(server.vertx(), new AgentSettings(source.uri(), name, server.ingestUrl(),
                key.token(), creds.getString("certificateSha256"), null, config.agent()));
        agent.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        say(name + ": write load of about " + opsPerSecond + " inserts/updates/deletes a second; agent started with key "
                + key.id() + ", scoped to '" + name + "' only (see: tidemark keys list" + dataDirFlag() + ")");
        return new Deployment(name, source, load, agent);
    }

    private static boolean hasSnapshot(TidemarkServer server, String name) throws Exception {
        JsonObject job = server.stores().jobs().resolve(name).otherwiseEmpty().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return job != null && new io.tidemark.shared.snapshots.SnapshotCatalog(server.stores().metadata()).latestComplete(job.getString("_id"))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS) != null;
    }

    /** Moves a deployment's job to another daemon by the path 'tidemark jobs move' takes. */
    private static void move(TidemarkServer server, TidemarkConfig config, String name) throws Exception {
        JsonObject job = server.stores().jobs().resolve(name).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        String owner = job.getJsonObject("binding").getString("daemon");
        JsonObject other = new io.tidemark.shared.daemons.DaemonRegistry(server.stores().metadata()).list()
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).stream()
                .filter(d -> !owner.equals(d.getString("_id"))).findFirst().orElseThrow();
        String to = other.getString("_id");
        say("moving " + name + " from daemon " + owner + " to daemon " + to + ", as 'tidemark jobs move --job " + name + " --to " + to
                + "' would: the destination rebuilds its head from the latest snapshot and the stored oplog while the owner"
                + " keeps applying, then takes it over");
        new MoveRequests(server.vertx(), server.stores(), config.daemons().leaseSeconds() * 1000L).move(name, to, "the demo")
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** Each job's state and owner, and every snapshot completed since the last report. */
    private static void report(TidemarkServer server, List<Deployment> deployments, Set<String> shown) throws Exception {
        for (JsonObject job : server.stores().jobs().list().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)) {
            JsonObject v = JobsApi.view(job);
            JsonObject binding = job.getJsonObject("binding");
            long writes = deployments.stream().filter(d -> d.name().equals(v.getString("name")))
                    .mapToLong(d -> d.load().operations()).sum();
            // Only the fields printed: an entry also holds its per-namespace summary.
            List<JsonObject> snapshots = server.stores().metadata().findWithOptions("snapshots",
                            new JsonObject().put("job", v.getString("id")).put("complete", true),
                            new io.vertx.ext.mongo.FindOptions().setFields(new JsonObject().put("createdAt", 1).put("kind", 1)
                                    .put("chainDepth", 1).put("documents", 1).put("logicalBytes", 1).put("storedBytes", 1)))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            say(String.format("job %s: %s on daemon %s, oplog stored to %s, head applied to %s, %d snapshots, %d source writes",
                    v.getString("name"), v.getString("state"),
                    binding == null ? "(not bound yet)" : binding.getString("daemon") + " (epoch " + binding.getLong("epoch") + ")",
                    JobsCommand.ts(v.getJsonObject("storedTs")), JobsCommand.ts(v.getJsonObject("appliedTs")), snapshots.size(), writes));
            JsonObject move = v.getJsonObject("move");
            JsonObject last = v.getJsonObject("lastMove");
            if (move != null) {
                say("  " + JobsCommand.moveLine(move, null));
            } else if (last != null && shown.add("move " + last.getString("id"))) {
                say("  " + JobsCommand.moveLine(null, last) + (last.getValue("bytesLoaded") == null ? ""
                        : String.format(" (%,d bytes of documents loaded, %,d oplog entries caught up)", last.getLong("bytesLoaded"),
                        last.getLong("entriesCaughtUp", 0L))));
            }
            snapshots.sort(java.util.Comparator.comparingLong(e -> e.getLong("createdAt", 0L)));
            for (JsonObject e : snapshots) {
                if (shown.add(e.getString("_id"))) {
                    String kind = "delta".equals(e.getString("kind"))
                            ? "a delta on its parent (chain depth " + e.getInteger("chainDepth", 0) + ")"
                            : "a full snapshot";
                    say(String.format("  snapshot %s of %s: %s, %,d documents, %,d bytes of documents, %,d bytes newly stored",
                            e.getString("_id"), v.getString("name"), kind, e.getLong("documents", 0L),
                            e.getLong("logicalBytes", 0L), e.getLong("storedBytes", 0L)));
                }
            }
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port for the embedded store", e);
        }
    }

    private String dataDirFlag() {
        return common.dataDir == null ? "" : " --data-dir " + common.dataDir;
    }

    private static void say(String line) {
        System.out.println("[demo] " + line);
    }
}
