package io.tidemark.shared.store;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Documents with compound ids (sync slices, oplog batches) are found by their ids in the
 * embedded store however its pages were written and read back: H2 had ordered such keys by
 * their Java serialization, which is not the same for equal ids, so lookups and deletes by id
 * missed documents that were there once the store had committed.
 */
class EmbeddedStoreKeyOrderTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    @Test
    void concurrentWritesReadsAndDeletesOfSyncSlicesEachTouchOnlyTheirJob() {
        Path dir = tmp.resolve("store");
        EmbeddedMongo store = EmbeddedMongo.durable(dir, 0);
        try {
            withClient(store, dir, client -> {
                SyncStore sync = new SyncStore(client.getDatabase("tidemark_blockstore"));
                sync.createIndexes().block(WAIT);
                byte[] body = new byte[2000];
                for (int round = 0; round < 5; round++) {
                    String r = "r" + round + "-";
                    Flux.range(0, 4).flatMap(j -> Flux.range(0, 50)
                            .concatMap(s -> sync.putSlice(r + j, 1, "shop.orders", s, 1, CompressedPayload.of(body)))
                            .subscribeOn(Schedulers.parallel())).then().block(WAIT);
                    // One job's slices are removed while three others are read and a fifth written.
                    Flux.merge(sync.deleteOtherGenerations(r + 0, -1).then(Mono.empty()),
                            Flux.range(1, 3).flatMap(j -> sync.slices(r + j, 1, "shop.orders").count()).then(Mono.empty()),
                            Flux.range(0, 50).flatMap(s -> sync.putSlice(r + "w", 1, "shop.orders", s, 1,
                                    CompressedPayload.of(body)), 4).then(Mono.empty())).then().block(WAIT);
                    for (int j = 1; j < 4; j++) {
                        assertEquals(50L, sync.slices(r + j, 1, "shop.orders").count().block(WAIT), "round " + round + ", job " + j);
                    }
                    assertEquals(50L, sync.slices(r + "w", 1, "shop.orders").count().block(WAIT), "round " + round + ", written");
                    assertEquals(0L, sync.slices(r + 0, 1, "shop.orders").count().block(WAIT), "round " + round + ", deleted");
                }
            });
        } finally {
            store.close();
        }
    }

    @Test
    void compoundIdsAreFoundAfterARestart() {
        Path dir = tmp.resolve("store");
        EmbeddedMongo store = EmbeddedMongo.durable(dir, 0);
        withClient(store, dir, client -> writeAndCheck(client.getDatabase("t").getCollection("c", BsonDocument.class), 300));
        store.close();
        EmbeddedMongo reopened = EmbeddedMongo.durable(dir, 0);
        try {
            withClient(reopened, dir, client -> {
                MongoCollection<BsonDocument> c = client.getDatabase("t").getCollection("c", BsonDocument.class);
                checkAll(c, 300);
                // Upserting the same ids again replaces them: no id is stored twice.
                writeAndCheck(c, 300);
            });
        } finally {
            reopened.close();
        }
    }

    @Test
    void aStoreWrittenInH2sOwnKeyOrderIsUpgradedWhenOpened() {
        Path dir = tmp.resolve("store");
        String file = dir.resolve("tidemark.mv").toString();
        EmbeddedMongo.durable(dir, 0).close(); // the secret and the directory
        java.io.File mv = new java.io.File(file);
        assertTrue(mv.delete());
        H2Backend old = new H2Backend(MVStore.open(file));
        MongoServer server = new MongoServer(old);
        var addr = server.bind();
        try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + addr.getPort())) {
            MongoCollection<BsonDocument> c = client.getDatabase("t").getCollection("c", BsonDocument.class);
            Flux.range(0, 200).concatMap(i -> Mono.from(c.insertOne(doc(i)))).then().block(WAIT);
            Flux.range(0, 50).concatMap(i -> Mono.from(client.getDatabase("t").getCollection("named", BsonDocument.class)
                    .insertOne(new BsonDocument("_id", new BsonString("k" + i))))).then().block(WAIT);
        } finally {
            server.shutdownNow();
        }
        EmbeddedMongo upgraded = EmbeddedMongo.durable(dir, 0);
        try {
            withClient(upgraded, dir, client -> {
                checkAll(client.getDatabase("t").getCollection("c", BsonDocument.class), 200);
                MongoCollection<BsonDocument> named = client.getDatabase("t").getCollection("named", BsonDocument.class);
                for (int i = 0; i < 50; i++) {
                    assertNotNull(Mono.from(named.find(Filters.eq("_id", "k" + i)).first()).block(WAIT), "k" + i);
                }
                assertEquals(0, Mono.from(named.countDocuments()).block(WAIT) - 50);
            });
        } finally {
            upgraded.close();
        }
        MVStore reopened = MVStore.open(file);
        try {
            assertEquals(1, reopened.<String, Object>openMap("tidemark.format").get("keyOrder"));
        } finally {
            reopened.close();
        }
    }

    private static BsonDocument id(int i) {
        return new BsonDocument("job", new BsonString("job-" + (i % 3))).append("gen", new BsonInt64(1))
                .append("ns", new BsonString("shop.orders")).append("seq", new BsonInt64(i));
    }

    private static BsonDocument doc(int i) {
        return new BsonDocument("_id", id(i)).append("n", new BsonInt32(i));
    }

    private static void writeAndCheck(MongoCollection<BsonDocument> c, int n) {
        Flux.range(0, n).flatMap(i -> Mono.from(c.replaceOne(Filters.eq("_id", id(i)), doc(i), new ReplaceOptions().upsert(true))), 4)
                .then().block(WAIT);
        checkAll(c, n);
    }

    private static void checkAll(MongoCollection<BsonDocument> c, int n) {
        for (int i = 0; i < n; i++) {
            BsonDocument found = Mono.from(c.find(Filters.eq("_id", id(i))).first()).block(WAIT);
            assertNotNull(found, "document " + i + " by its id");
            assertEquals(i, found.getInt32("n").getValue());
        }
        assertEquals(n, Mono.from(c.countDocuments()).block(WAIT));
    }

    private static void withClient(EmbeddedMongo store, Path dir, Consumer<MongoClient> body) {
        MongoCredential credential = EmbeddedMongo.credential(dir);
        try (MongoClient client = MongoClients.create(MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(store.uri())).credential(credential).build())) {
            body.accept(client);
        }
    }
}
