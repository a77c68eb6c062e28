package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** Verify hashes a head from a view on a worker: the head's thread goes on applying meanwhile. */
class VerifyWhileApplyingTest {
    private static final UUID UUID_C = UUID.randomUUID();
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static RawBsonDocument insert(int ts, int id) {
        return TestEntries.insert(ts, UUID_C, new RawBsonDocument(
                new BsonDocument("_id", new BsonInt32(id)).append("v", new BsonString("v" + id)), new BsonDocumentCodec()));
    }

    @Test
    void applyGoesOnWhileVerifyHashesAConsistentView() throws Exception {
        try (Head head = Head.open(dir)) {
            head.createNamespace("db", "c", UUID_C, NamespaceType.COLLECTION, null, List.of());
            head.createNamespace("db", "d", UUID.randomUUID(), NamespaceType.COLLECTION, null, List.of());
            List<RawBsonDocument> first = new ArrayList<>();
            for (int i = 1; i <= 100; i++) {
                first.add(insert(i, i));
            }
            new OplogApplier(head).apply(first, OplogApplier.Mode.STEADY);
        }
        HeadMarker.markBuilt(dir, "job", 1);
        HeadMemory memory = new HeadMemory(16L << 20, 16L << 20, 4L << 20);
        HeadRunner runner = new HeadRunner("job", dir, memory, null, 1, new HeadRunner.Listener() {
            @Override
            public void applied(String job, OpTime appliedTs, int entries, long nanos) {
            }

            @Override
            public void reachedSyncEnd(String job) {
            }

            @Override
            public void failed(String job, String reason, boolean divergence) {
            }
        });
        Scheduler workers = Schedulers.newBoundedElastic(1, 4, "test-verify");
        try {
            runner.open(1, OpTime.ZERO, OpTime.ZERO).block(WAIT);
            CountDownLatch hashing = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // Verify stops after its first namespace until the test says so.
            CompletableFuture<JsonObject> hashes = runner.hashes(workers, ns -> {
                hashing.countDown();
                awaitQuietly(release);
            }).toFuture();
            assertTrue(hashing.await(WAIT.toSeconds(), TimeUnit.SECONDS), "verify started hashing");

            OplogApplier.Result applied = runner.onHeadThread(() -> new OplogApplier(runner.head())
                    .apply(List.of(insert(101, 101), insert(102, 102)), OplogApplier.Mode.STEADY)).block(WAIT);
            assertEquals(2, applied.applied(), "the head's thread applied while verify was hashing");
            assertEquals(102, runner.head().documentCount("db.c"));

            release.countDown();
            JsonObject result = hashes.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertEquals(OpTime.of(new BsonTimestamp(1_700_000_000, 100)).toJson(), result.getJsonObject("appliedTs"),
                    "the hashes are reported with the position of the view they were taken from");
            assertEquals(100, result.getJsonObject("namespaces").getJsonObject("db.c").getLong("count"));
        } finally {
            release(runner, workers, memory);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void release(HeadRunner runner, Scheduler workers, HeadMemory memory) {
        runner.close();
        workers.dispose();
        memory.close();
    }
}
