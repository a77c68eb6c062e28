package io.tidemark.restore.push;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static io.tidemark.restore.pit.PitFixture.doc;
import static io.tidemark.restore.pit.PitFixture.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.tidemark.applier.VerifyHash;
import io.tidemark.restore.pit.PitFixture;
import io.tidemark.restore.pit.PointInTimeRestoreSource;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

class PusherTest {

    @TempDir
    Path dir;

    @Test
    void aRestorePushedIntoAnEmptyDeploymentHasItsDocumentsAndIndexesAndIsNotPushedOverUnlessDropped() {
        MongoServer target = new MongoServer(new MemoryBackend());
        target.bind("127.0.0.1", 0);
        String uri = "mongodb://127.0.0.1:" + target.getLocalAddress().getPort();
        try (PitFixture fx = new PitFixture(dir); MongoClient check = MongoClients.create(uri)) {
            PitFixture.Job job = fx.new Job("push", new OpTime(Instant.now().minus(Duration.ofHours(1)).getEpochSecond(), 0));
            PitFixture.Entries e = new PitFixture.Entries(job.stored.seconds() + 1, 100);
            UUID users = UUID.randomUUID();
            UUID orders = UUID.randomUUID();
            List<RawBsonDocument> entries = list(e.create("shop", "users", users), e.create("shop", "orders", orders),
                    e.createIndex("shop", "users", users, "n", true));
            for (int i = 0; i < 2_500; i++) {
                entries.add(e.insert("shop.users", users, doc(i, "user " + "x".repeat(i % 200), i)));
            }
            for (int i = 0; i < 40; i++) {
                entries.add(e.insert("shop.orders", orders, doc(i, "order", i)));
            }
            job.apply(entries);
            job.snapshot();
            RawBsonDocument last = e.delete("shop.orders", orders, 3);
            job.apply(list(last));

            try (PointInTimeRestoreSource source = fx.restores(Clock.systemUTC())
                    .openSource(job.id, OpTime.of(last.getTimestamp("ts"))).block(TIMEOUT)) {
                AtomicLong reported = new AtomicLong();
                // Small batches, so that several are in flight and progress is reported several times.
                PushOptions small = new PushOptions(false, 300, 64 << 10, 2);
                PushSummary summary = new Pusher().push(source, uri, small, (ns, bytes, docs) -> reported.set(docs))
                        .block(TIMEOUT);
                assertEquals(List.of("shop.users", "shop.orders"), summary.collections());
                assertEquals(2_539, summary.documents());
                assertEquals(2_539, reported.get());
                assertEquals(1, summary.indexes());
                assertEquals(PitFixture.hashes(source), targetHashes(check, source));

                List<BsonDocument> indexes = check.getDatabase("shop").getCollection("users").listIndexes(BsonDocument.class)
                        .into(new ArrayList<>());
                BsonDocument n = indexes.stream().filter(i -> i.getString("name").getValue().equals("n_1")).findFirst().orElseThrow();
                assertEquals(new BsonDocument("n", new org.bson.BsonInt32(1)), n.getDocument("key"));
                assertTrue(n.getBoolean("unique").getValue());

                // The target now has data: a second push refuses and changes nothing.
                check.getDatabase("shop").getCollection("orders").deleteMany(new org.bson.Document());
                ApiException refused = assertThrows(ApiException.class,
                        () -> new Pusher().push(source, uri, PushOptions.defaults(), PushProgress.NONE).block(TIMEOUT));
                assertEquals(409, refused.status());
                assertTrue(refused.getMessage().contains("shop.users") && refused.getMessage().contains("nothing was changed"),
                        refused.getMessage());
                assertEquals(0, check.getDatabase("shop").getCollection("orders").countDocuments());
                assertEquals(2_500, check.getDatabase("shop").getCollection("users").countDocuments());

                // With drop it replaces them; the emptied collection is dropped and recreated too.
                PushSummary again = new Pusher().push(source, uri, PushOptions.defaults().withDrop(true), PushProgress.NONE)
                        .block(TIMEOUT);
                assertEquals(List.of("shop.users", "shop.orders"), again.dropped());
                assertEquals(PitFixture.hashes(source), targetHashes(check, source));
            }
            job.close();
        } finally {
            target.shutdownNow();
        }
    }

    private static Map<String, VerifyHash.Result> targetHashes(MongoClient client, PointInTimeRestoreSource source) {
        Map<String, VerifyHash.Result> out = new TreeMap<>();
        for (Manifest.Namespace n : source.namespaces()) {
            out.put(n.ns() + "/" + n.type(), VerifyHash.of(client.getDatabase(n.db())
                    .getCollection(n.collection(), RawBsonDocument.class).find().iterator()));
        }
        return out;
    }
}
