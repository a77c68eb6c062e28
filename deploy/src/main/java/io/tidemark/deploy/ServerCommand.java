package io.tidemark.deploy;

import io.tidemark.shared.config.TidemarkConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.CountDownLatch;

@Command(name = "server", description = "Run the Tidemark server: Backup HTTP service (8081) and REST API (8080), "
        + "heads, snapshots and grooms; --roles runs a part of it (docs/scale-out.md).")
final class ServerCommand implements Runnable {

    @Mixin
    CommonOptions common = new CommonOptions();

    @picocli.CommandLine.Option(names = "--roles", paramLabel = "frontend|daemon|frontend,daemon",
            description = "What this process runs: frontend (REST API, Backup HTTP service), daemon (heads, snapshots, "
                    + "point-in-time builds, grooms), or both (the default, which also runs the embedded store).")
    String roles;

    @Override
    public void run() {
        TidemarkConfig config = common.load();
        TidemarkServer server = TidemarkServer.start(config, roles == null ? Roles.ALL : Roles.parse(roles));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "tidemark-shutdown"));
        if (server.roles().frontend()) {
            System.out.println("Tidemark server running" + (server.roles().all() ? "" : " (" + server.roles() + ")") + ". REST API "
                    + server.apiUrl() + "/api/v1, Backup HTTP service " + server.ingestUrl() + ". Credentials: "
                    + config.dataPath().resolve("credentials.json"));
        } else {
            System.out.println("Tidemark server running (daemon " + server.daemonId() + ").");
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
