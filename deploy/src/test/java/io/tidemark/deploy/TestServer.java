package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.agent.IngestRejection;
import io.tidemark.shared.security.CredentialsFile;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A server on a test's data dir, with its admin client and agent clients speaking to it as agents do. */
record TestServer(TidemarkServer server, Vertx vertx, JsonObject creds, AdminClient admin) implements AutoCloseable {

    static TestServer start(Path dataDir) {
        TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()));
        return new TestServer(server, Vertx.vertx(), CredentialsFile.read(server.config().dataPath()),
                new AdminClient(server.config().dataPath(), null, null, null));
    }

    /** An agent's client with {@code token}, trusting the server by its pinned certificate. */
    IngestClient agent(String token) {
        return new IngestClient(vertx, server.ingestUrl(), token, creds.getString("certificateSha256"), null);
    }

    /** Asserts that the service refused the request with a 4xx, and returns the refusal. */
    static IngestRejection rejected(Future<?> f) {
        AssertionError failed = assertThrows(AssertionError.class, () -> CaptureHarness.join(f));
        return assertInstanceOf(IngestRejection.class, failed.getCause().getCause(), failed.getMessage());
    }

    @Override
    public void close() {
        admin.close();
        vertx.close();
        server.close();
    }
}
