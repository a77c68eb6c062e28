package io.tidemark.shared.store;

import com.mongodb.MongoCredential;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.tidemark.shared.security.OwnerOnly;

import java.nio.file.Path;

/**
 * An in-process MongoDB-wire server (mongo-java-server) on loopback. The server talks to it through
 * the same drivers as to a real replica set; it is the default only when no URI is configured.
 *
 * <p>The durable store is Tidemark's own metadata (including API-key hashes) and oplog, so it
 * admits only connections that authenticate with the secret in its 0700 directory (SCRAM-SHA-256;
 * see docs/security.md, "The embedded store"). The in-memory servers stand in for customers'
 * deployments in tests and the demo and stay open like a fresh mongod.
 */
public final class EmbeddedMongo implements AutoCloseable {

    private volatile MongoServer server;
    private volatile DurableH2Backend backend;
    private final String uri;
    private final int port;
    private final MongoCredential credential;
    /** The durable store's file, null for the in-memory servers. */
    private final String file;

    private EmbeddedMongo(MongoServer server, int port, MongoCredential credential, String file) {
        this.server = server;
        this.credential = credential;
        this.file = file;
        server.bind("127.0.0.1", port);
        this.port = server.getLocalAddress().getPort();
        this.uri = "mongodb://127.0.0.1:" + this.port;
    }

    /**
     * The durable store: H2 MVStore files under {@code dir} (created 0700), committed on every
     * write, open only to clients with the secret in {@code dir} (generated on first start).
     */
    public static EmbeddedMongo durable(Path dir, int port) {
        OwnerOnly.directory(dir);
        char[] secret = StoreSecret.readOrCreate(dir);
        String file = dir.resolve("tidemark.mv").toString();
        DurableH2Backend backend = new DurableH2Backend(file, new StoreAuthentication(secret));
        EmbeddedMongo store = new EmbeddedMongo(new MongoServer(backend), port, credential(secret), file);
        store.backend = backend;
        return store;
    }

    /**
     * Whether the durable store's H2 MVStore has closed itself (it does after a write fails, a
     * full disk for one): it then refuses every command until it is opened again.
     */
    public boolean closed() {
        DurableH2Backend b = backend;
        return b != null && b.storeClosed();
    }

    /**
     * Opens the durable store's file again, on the same port, after its MVStore closed itself:
     * the clients reconnect and authenticate as after any dropped connection, so the server
     * recovers without a restart. What the store acknowledged is in the file (every write was
     * committed before its reply); the write that failed was never acknowledged. Blocking: on a
     * worker.
     */
    public synchronized void reopen() {
        if (file == null) {
            throw new IllegalStateException("only the durable store can be reopened");
        }
        server.shutdownNow();
        char[] secret = credential.getPassword();
        DurableH2Backend fresh = new DurableH2Backend(file, new StoreAuthentication(secret));
        MongoServer reopened = new MongoServer(fresh);
        reopened.bind("127.0.0.1", port);
        backend = fresh;
        server = reopened;
    }

    /**
     * What another process of this server (one that has the data dir) presents to the durable
     * store under {@code dir}: read from the secret file, which only the data dir's owner can read.
     */
    public static MongoCredential credential(Path dir) {
        return credential(StoreSecret.read(dir));
    }

    private static MongoCredential credential(char[] secret) {
        return MongoCredential.createScramSha256Credential(StoreAuthentication.USER, StoreAuthentication.AUTH_DB, secret);
    }

    /** A throw-away server with an oplog: the demo's source deployment and tests' sources. */
    public static EmbeddedMongo inMemoryWithOplog() {
        MongoServer server = new MongoServer(new MemoryBackend());
        server.enableOplog();
        return new EmbeddedMongo(server, 0, null, null);
    }

    /** Where it listens; carries no credential. */
    public String uri() {
        return uri;
    }

    /** What clients must present: null for the open in-memory servers. */
    MongoCredential credential() {
        return credential;
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
