package io.tidemark.deploy;

import io.tidemark.shared.config.TidemarkConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.concurrent.CountDownLatch;

@Command(name = "server", description = "Run the Tidemark server: Backup HTTP service (8081) and REST API (8080).")
final class ServerCommand implements Runnable {

    @Mixin
    CommonOptions common = new CommonOptions();

    @Override
    public void run() {
        TidemarkConfig config = common.load();
        TidemarkServer server = TidemarkServer.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "tidemark-shutdown"));
        System.out.println("Tidemark server running. REST API " + server.apiUrl() + "/api/v1, Backup HTTP service "
                + server.ingestUrl() + ". Credentials: " + config.dataPath().resolve("credentials.json"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
