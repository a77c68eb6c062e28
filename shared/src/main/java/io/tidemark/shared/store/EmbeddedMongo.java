package io.tidemark.shared.store;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An in-process MongoDB-wire server (mongo-java-server) on loopback. The server talks to it through
 * the same drivers as to a real replica set; it is the default only when no URI is configured.
 */
public final class EmbeddedMongo implements AutoCloseable {

    private final MongoServer server;
    private final String uri;

    private EmbeddedMongo(MongoServer server, int port) {
        this.server = server;
        server.bind("127.0.0.1", port);
        this.uri = "mongodb://127.0.0.1:" + server.getLocalAddress().getPort();
    }

    /** The durable store: H2 MVStore files under {@code dir}, committed on every write. */
    public static EmbeddedMongo durable(Path dir, int port) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the embedded store directory " + dir, e);
        }
        return new EmbeddedMongo(new MongoServer(new DurableH2Backend(dir.resolve("tidemark.mv").toString())), port);
    }

    /** A throw-away server with an oplog: the demo's source deployment and tests' sources. */
    public static EmbeddedMongo inMemoryWithOplog() {
        MongoServer server = new MongoServer(new MemoryBackend());
        server.enableOplog();
        return new EmbeddedMongo(server, 0);
    }

    public String uri() {
        return uri;
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
