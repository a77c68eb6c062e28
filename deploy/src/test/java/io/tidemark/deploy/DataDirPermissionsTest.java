package io.tidemark.deploy;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCredential;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server's data dir is the owner's alone: created 0700 with its secrets 0600, an older, open
 * one tightened, a secret others could read refused; and its embedded store answers only to a
 * process that has the data dir.
 */
class DataDirPermissionsTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    void theDataDirAndItsSecretsAreOwnerOnlyAndTheStoreNeedsTheSecret() throws Exception {
        Path parent = Files.createDirectories(tmp.resolve("var"));
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dataDir = parent.resolve("tidemark-data");
        int storePort = CaptureHarness.freePort();
        Map<String, String> env = Map.of("TIDEMARK_MONGODB_EMBEDDEDPORT", String.valueOf(storePort));
        try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, env))) {
            String store = "mongodb://127.0.0.1:" + storePort;
            try (MongoClient anyone = client(store, null)) {
                MongoCommandException refused = assertThrows(MongoCommandException.class, () -> Flux.from(
                        anyone.getDatabase("tidemark").getCollection("apiKeys").find()).collectList().block(WAIT));
                assertEquals(13, refused.getErrorCode());
            }
            try (MongoClient sameOwner = client(store, EmbeddedMongo.credential(Stores.embeddedDir(dataDir)))) {
                assertEquals(2, Flux.from(sameOwner.getDatabase("tidemark").getCollection("apiKeys").find())
                        .collectList().block(WAIT).size(), "the first admin token and agent key");
            }
        }
        assertMode("rwx------", dataDir);
        assertMode("rw-------", CredentialsFile.path(dataDir));
        assertMode("rwx------", dataDir.resolve("tls"));
        assertMode("rw-------", dataDir.resolve("tls").resolve("key.pem"));
        assertMode("rwx------", Stores.embeddedDir(dataDir));
        assertMode("rw-------", Stores.embeddedDir(dataDir).resolve("secret"));

        // A data dir as an older version left it: opened up, but its secrets private.
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dataDir.resolve("tls"), PosixFilePermissions.fromString("rwxr-xr-x"));
        try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, env))) {
            assertMode("rwx------", dataDir);
            assertMode("rwx------", dataDir.resolve("tls"));
        }

        // A secret others could have read: the operator decides about rotating it, not the server.
        Files.setPosixFilePermissions(CredentialsFile.path(dataDir), PosixFilePermissions.fromString("rw-r--r--"));
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> TidemarkServer.start(CaptureHarness.config(dataDir, env)).close());
        assertTrue(refused.getMessage().contains("credentials.json is accessible to group or others"), refused.getMessage());
    }

    private static void assertMode(String expected, Path path) throws Exception {
        assertEquals(expected, PosixFilePermissions.toString(Files.getPosixFilePermissions(path)), path.toString());
    }

    private static MongoClient client(String uri, MongoCredential credential) {
        MongoClientSettings.Builder settings = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(uri))
                .applyToClusterSettings(c -> c.serverSelectionTimeout(5, TimeUnit.SECONDS));
        if (credential != null) {
            settings.credential(credential);
        }
        return MongoClients.create(settings.build());
    }
}
