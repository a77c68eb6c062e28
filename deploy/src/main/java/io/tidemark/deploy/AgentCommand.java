package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.agent.AgentSettings;
import io.tidemark.agent.ApiKeyFile;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

@Command(name = "agent", description = "Back up a replica set: initial sync, then follow its oplog.")
final class AgentCommand implements Runnable {

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--source", required = true, description = "MongoDB URI of the replica set to back up.")
    String source;

    @Option(names = "--name", required = true, description = "Deployment name; the first contact registers it.")
    String name;

    @Option(names = {"--server", "--ingest-url"}, description = "Backup HTTP service URL, or several front ends' URLs separated by"
            + " commas, used in turn (default: the local server's, from the data dir).")
    String server;

    @Option(names = "--api-key-file", paramLabel = "PATH",
            description = "File holding the agent API key, readable by its owner only (mode 0600 or 0400).")
    Path apiKeyFile;

    @Option(names = "--api-key", description = "Agent API key. Prefer --api-key-file or the " + ApiKeyFile.ENV
            + " environment variable: a command line is visible to every local user.")
    String apiKey;

    @Option(names = "--pin", description = "SHA-256 fingerprint of the service's certificate to trust.")
    String pin;

    @Option(names = "--ca-file", description = "PEM file of the CA (or certificate) to trust for the service.")
    Path caFile;

    @Override
    public void run() {
        TidemarkConfig config = common.load();
        String given = givenKey(apiKey, apiKeyFile, System.getenv());
        JsonObject local = server == null || given == null || (pin == null && caFile == null)
                ? localCredentials(config) : new JsonObject();
        String url = server != null ? server : local.getString("ingestUrl");
        String key = given != null ? given : local.getString("agentKey");
        String pinned = pin != null ? pin : caFile == null && server == null ? local.getString("certificateSha256") : null;
        if (url == null || key == null) {
            throw new CliException("give --server and --api-key-file (or " + ApiKeyFile.ENV
                    + "), or run on the server's machine with its --data-dir");
        }
        Vertx vertx = VertxFactory.create();
        Agent agent = new Agent(vertx, new AgentSettings(source, name, url, key, pinned, caFile, config.agent()));
        try {
            agent.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw new CliException("the agent could not start: " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.stop();
            vertx.close();
            stopped.countDown();
        }, "tidemark-agent-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The key the operator gave, if any: a key file, else {@code --api-key}, else the environment
     * variable. Null means: use the local server's credentials file.
     */
    static String givenKey(String apiKey, Path apiKeyFile, Map<String, String> env) {
        if (apiKey != null && apiKeyFile != null) {
            throw new CliException("give either --api-key-file or --api-key, not both");
        }
        if (apiKeyFile != null) {
            try {
                return ApiKeyFile.read(apiKeyFile);
            } catch (IllegalArgumentException e) {
                throw new CliException(e.getMessage());
            }
        }
        if (apiKey != null) {
            return apiKey;
        }
        String fromEnv = env.get(ApiKeyFile.ENV);
        return fromEnv == null || fromEnv.isBlank() ? null : fromEnv.strip();
    }

    private static JsonObject localCredentials(TidemarkConfig config) {
        Path file = CredentialsFile.path(config.dataPath());
        return Files.exists(file) ? CredentialsFile.read(config.dataPath()) : new JsonObject();
    }
}
