package io.tidemark.shared.store;

import com.mongodb.MongoClientSettings;
import com.mongodb.ConnectionString;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.shared.storage.StorageFailure;
import io.tidemark.shared.testing.SmallDisk;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The embedded store on a full disk: a write fails with an error the classifier names as storage
 * (not a bug), the store closes itself, and once space is back it is reopened on the same port
 * with every acknowledged write still there, while its clients reconnect by themselves.
 */
class EmbeddedStoreFullDiskTest {

    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;

    @Test
    void aFullDiskClosesTheStoreAndReopeningRecoversEveryAcknowledgedWrite() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(tmp.resolve("disk"), 16)) {
            Path dir = disk.path().resolve("store");
            EmbeddedMongo store = EmbeddedMongo.durable(dir, 0);
            MongoClient client = MongoClients.create(MongoClientSettings.builder()
                    .applyConnectionString(new ConnectionString(store.uri())).credential(EmbeddedMongo.credential(dir))
                    .applyToClusterSettings(b -> b.serverSelectionTimeout(5, java.util.concurrent.TimeUnit.SECONDS)).build());
            try {
                var coll = client.getDatabase("tidemark").getCollection("docs");
                int acknowledged = 0;
                for (; acknowledged < 50; acknowledged++) {
                    Mono.from(coll.insertOne(new Document("_id", acknowledged).append("pad", "x".repeat(1000)))).block(WAIT);
                }
                disk.fill();
                Throwable failure = null;
                for (int i = acknowledged; i < acknowledged + 2000 && failure == null; i++) {
                    try {
                        Mono.from(coll.insertOne(new Document("_id", i).append("pad", "x".repeat(10_000)))).block(WAIT);
                        acknowledged = i + 1;
                    } catch (RuntimeException e) {
                        failure = e;
                    }
                }
                if (failure == null) {
                    fail("writes never failed on a full disk");
                }
                assertTrue(StorageFailure.classify(failure).isPresent(), "a full disk is a storage failure: " + failure);
                assertTrue(store.closed(), "H2 closes its store after a failed write");
                Throwable second = null;
                try {
                    Mono.from(coll.insertOne(new Document("_id", -1))).block(WAIT);
                } catch (RuntimeException e) {
                    second = e;
                }
                assertEquals(Optional.of(StorageFailure.Kind.DISK_FULL), StorageFailure.classify(second), "every command after it says why: " + second);

                disk.release();
                if (store.closed()) {
                    store.reopen();
                }
                // The first command after the reopening may meet a connection the old server closed.
                for (int attempt = 0; ; attempt++) {
                    try {
                        Mono.from(coll.insertOne(new Document("_id", "after"))).block(WAIT);
                        break;
                    } catch (com.mongodb.MongoSocketException stale) {
                        assertTrue(attempt < 3, "the client does not reconnect: " + stale);
                    }
                }
                long count = Mono.from(coll.countDocuments()).block(WAIT);
                assertTrue(count >= acknowledged + 1, count + " documents after reopening; " + acknowledged + " were acknowledged");
                for (int i = 0; i < acknowledged; i++) {
                    assertEquals(1L, Mono.from(coll.countDocuments(new Document("_id", i))).block(WAIT), "acknowledged document " + i);
                }
            } finally {
                client.close();
                store.close();
            }
        }
    }
}
