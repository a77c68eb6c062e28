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

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

@Command(name = "demo", description = "Everything in one process: the server on its embedded store, a demo replica set "
        + "with sample data and a steady write load, and an agent backing it up.")
final class DemoCommand implements Runnable {

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--duration", defaultValue = "0", description = "Stop after this many seconds (0: run until Ctrl-C).")
    int duration;

    @Option(names = "--ops-per-second", defaultValue = "50", description = "Write load on the demo source.")
    int opsPerSecond;

    @Option(names = "--snapshot-minutes", defaultValue = "1",
            description = "Snapshot interval for the demo (a server's default is 6 hours).")
    int snapshotMinutes;

    @Override
    public void run() {
        TidemarkConfig config = common.load(Map.of("TIDEMARK_SNAPSHOTS_INTERVALMINUTES", String.valueOf(snapshotMinutes)));
        say("starting the Tidemark server (data dir " + config.dataPath() + "; a snapshot every " + snapshotMinutes
                + " min)");
        TidemarkServer server = TidemarkServer.start(config);
        MongoShapedSource source = new MongoShapedSource();
        Agent agent = null;
        DemoWorkload load = null;
        try {
            say("demo source (an in-process MongoDB-wire server writing a MongoDB-shaped oplog) at " + source.uri()
                    + "; loading sample data");
            DemoDataset data = new DemoDataset();
            long docs = data.load(source, 2_000, 500, 10_000, 5_000);
            say("loaded " + docs + " documents into shop.customers, shop.products, shop.orders, analytics.events");
            load = new DemoWorkload(source, data, 2_000, 500);
            load.start(opsPerSecond);
            say("write load running: about " + opsPerSecond + " inserts/updates/deletes a second");

            say("the server's embedded store admits only clients holding its secret (" + Stores.embeddedDir(config.dataPath())
                    + "/secret, mode 0600); the data dir is owner-only");
            JsonObject creds = CredentialsFile.read(config.dataPath());
            // A key of its own, scoped to this one deployment: it can register and back up
            // 'demo-shop' and nothing else (a 403 on any other deployment's job).
            ApiKeys.Created key = server.stores().keys().create(ApiKeys.Kind.AGENT, "demo-shop agent", List.of("demo-shop"))
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            agent = new Agent(server.vertx(), new AgentSettings(source.uri(), "demo-shop", server.ingestUrl(),
                    key.token(), creds.getString("certificateSha256"), null, config.agent()));
            agent.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
            say("agent started for deployment 'demo-shop' with agent key " + key.id()
                    + ", scoped to 'demo-shop' only (see: tidemark keys list" + dataDirFlag() + ")");
            String api = server.apiUrl();
            String ca = creds.getString("certificateFile");
            say("look at:");
            System.out.println("    curl --cacert " + ca + " " + api + "/health");
            System.out.println("    curl --cacert " + ca + " " + api + "/metrics");
            System.out.println("    curl --cacert " + ca + " -H \"Authorization: Bearer $(jq -r .adminToken "
                    + CredentialsFile.path(config.dataPath()) + ")\" " + api + "/api/v1/jobs");
            System.out.println("    java -jar deploy/target/tidemark.jar jobs list" + dataDirFlag());
            long stopAt = duration > 0 ? System.currentTimeMillis() + duration * 1000L : Long.MAX_VALUE;
            while (System.currentTimeMillis() < stopAt) {
                Thread.sleep(Math.min(5_000, Math.max(1, stopAt - System.currentTimeMillis())));
                for (JsonObject job : server.stores().jobs().list().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)) {
                    JsonObject v = JobsApi.view(job);
                    long snapshots = server.stores().metadata().count("snapshots",
                                    new JsonObject().put("job", v.getString("id")).put("complete", true))
                            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
                    say(String.format("job %s: %s, oplog stored to %s, head applied to %s, %d snapshots, %d source writes",
                            v.getString("name"), v.getString("state"), JobsCommand.ts(v.getJsonObject("storedTs")),
                            JobsCommand.ts(v.getJsonObject("appliedTs")), snapshots, load.operations()));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new CliException("the demo failed: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
        } finally {
            if (load != null) {
                load.close();
            }
            if (agent != null) {
                agent.stop();
            }
            source.close();
            server.close();
            say("demo stopped");
        }
    }

    private String dataDirFlag() {
        return common.dataDir == null ? "" : " --data-dir " + common.dataDir;
    }

    private static void say(String line) {
        System.out.println("[demo] " + line);
    }
}
