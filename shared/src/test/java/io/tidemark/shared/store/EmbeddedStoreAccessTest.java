package io.tidemark.shared.store;

import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.MongoSecurityException;
import com.mongodb.ConnectionString;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.security.ApiKeys;
import io.vertx.core.Vertx;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded store admits only clients with the secret from its data dir: anyone else on the
 * machine who can reach its loopback port can neither read nor write (an apiKeys document with
 * a hash of their choosing would be an admin token).
 */
class EmbeddedStoreAccessTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    private EmbeddedMongo store;

    @AfterEach
    void close() {
        if (store != null) {
            store.close();
        }
    }

    @Test
    void aClientWithoutTheSecretCanNeitherReadNorWrite() {
        Path dir = tmp.resolve("data").resolve("store");
        store = EmbeddedMongo.durable(dir, 0);
        withClient(store.uri(), null, client -> {
            MongoCommandException list = assertThrows(MongoCommandException.class,
                    () -> Flux.from(client.getDatabase("tidemark").listCollectionNames()).collectList().block(WAIT));
            assertEquals(13, list.getErrorCode(), list.getMessage());
            MongoCommandException insert = assertThrows(MongoCommandException.class, () -> Mono.from(client.getDatabase("tidemark")
                    .getCollection("apiKeys").insertOne(new Document("hash", "chosen").append("kind", "ADMIN"))).block(WAIT));
            assertEquals(13, insert.getErrorCode(), insert.getMessage());
            assertThrows(MongoCommandException.class, () -> Mono.from(client.getDatabase("admin")
                    .runCommand(new Document("listDatabases", 1))).block(WAIT));
        });
        withClient(store.uri(), EmbeddedMongo.credential(dir), client ->
                assertEquals(List.of(), Flux.from(client.getDatabase("tidemark").getCollection("apiKeys").find()).collectList().block(WAIT),
                        "nothing was written by the unauthenticated client"));
    }

    @Test
    void aWrongSecretOrAnotherMechanismIsRefused() {
        Path dir = tmp.resolve("store");
        store = EmbeddedMongo.durable(dir, 0);
        char[] guess = "a-guess-that-is-long-enough-to-look-like-a-secret".toCharArray();
        withClient(store.uri(), MongoCredential.createScramSha256Credential("tidemark", "admin", guess), client ->
                assertThrows(MongoSecurityException.class,
                        () -> Flux.from(client.getDatabase("tidemark").listCollectionNames()).collectList().block(WAIT)));
        char[] secret = StoreSecret.read(dir);
        withClient(store.uri(), MongoCredential.createScramSha1Credential("tidemark", "admin", secret), client ->
                assertThrows(MongoSecurityException.class,
                        () -> Flux.from(client.getDatabase("tidemark").listCollectionNames()).collectList().block(WAIT)));
        withClient(store.uri(), MongoCredential.createScramSha256Credential("root", "admin", secret), client ->
                assertThrows(MongoSecurityException.class,
                        () -> Flux.from(client.getDatabase("tidemark").listCollectionNames()).collectList().block(WAIT)));
    }

    @Test
    void theServersOwnClientsAndASecondProcessWithTheDataDirGetIn() throws Exception {
        Path dataDir = tmp.resolve("data");
        TidemarkConfig config = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", dataDir.toString()));
        Vertx vertx = Vertx.vertx();
        try {
            Stores stores = vertx.executeBlocking(() -> null).compose(v -> Stores.open(vertx, config))
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            try {
                // metadata through the Vert.x client, oplog indexes (at open) through the reactive-streams driver
                stores.keys().create(ApiKeys.Kind.AGENT, "test key").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
                String uri = stores.embeddedUri();
                withClient(uri, null, client -> assertThrows(MongoCommandException.class, () -> Flux.from(client
                        .getDatabase("tidemark").getCollection("apiKeys").find()).collectList().block(WAIT)));
                // another process of this server: it has the data dir, so it has the secret
                withClient(uri, EmbeddedMongo.credential(Stores.embeddedDir(dataDir)), client -> assertEquals(1, Flux.from(client
                        .getDatabase("tidemark").getCollection("apiKeys").find()).collectList().block(WAIT).size()));
            } finally {
                stores.close();
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(Stores.embeddedDir(dataDir))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                StoreSecret.path(Stores.embeddedDir(dataDir)))));
    }

    @Test
    void aSecretOthersCanReadIsRefusedAndAnOpenStoreDirTightened() throws Exception {
        Path dir = tmp.resolve("store");
        EmbeddedMongo.durable(dir, 0).close();
        Path secret = StoreSecret.path(dir);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> EmbeddedMongo.durable(dir, 0).close());
        assertTrue(refused.getMessage().contains("accessible to group or others"), refused.getMessage());

        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        store = EmbeddedMongo.durable(dir, 0);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    private static void withClient(String uri, MongoCredential credential, java.util.function.Consumer<MongoClient> use) {
        MongoClientSettings.Builder settings = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(uri))
                .applyToClusterSettings(c -> c.serverSelectionTimeout(5, TimeUnit.SECONDS));
        if (credential != null) {
            settings.credential(credential);
        }
        try (MongoClient client = MongoClients.create(settings.build())) {
            use.accept(client);
        }
    }
}
