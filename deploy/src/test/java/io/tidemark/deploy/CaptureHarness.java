package io.tidemark.deploy;

import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.agent.Agent;
import io.tidemark.agent.AgentSettings;
import io.tidemark.shared.bson.BsonFrames;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.store.OplogStore;
import io.vertx.core.json.JsonObject;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/** Starts servers and agents on loopback with fast tuning, and reads back what they stored. */
final class CaptureHarness {

    private CaptureHarness() {
    }

    static TidemarkConfig config(Path dataDir, Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(Map.of(
                "TIDEMARK_DATADIR", dataDir.toString(),
                "TIDEMARK_INGEST_PORT", String.valueOf(freePort()),
                "TIDEMARK_INGEST_HOST", "127.0.0.1",
                "TIDEMARK_API_PORT", "0",
                "TIDEMARK_API_HOST", "127.0.0.1",
                "TIDEMARK_AGENT_BATCHMAXMILLIS", "50",
                "TIDEMARK_AGENT_HEARTBEATSECONDS", "1",
                "TIDEMARK_AGENT_POLLMILLIS", "20",
                "TIDEMARK_AGENT_SLICEBYTES", "65536"));
        env.putAll(extra);
        return ConfigLoader.load(null, env);
    }

    /** Ports handed out in this JVM: the kernel may offer a just-closed ephemeral port again. */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** A loopback port free now and not handed out before in this JVM (a test's processes each bind several). */
    static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket(0)) {
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("no free port not handed out before");
    }

    /** Agents get their own Vert.x, as in production, so stopping a server does not close their clients. */
    private static final io.vertx.core.Vertx AGENT_VERTX = io.tidemark.shared.util.VertxFactory.create();

    static Agent startAgent(TidemarkServer server, String sourceUri, String deployment) {
        JsonObject creds = CredentialsFile.read(server.config().dataPath());
        Agent agent = new Agent(AGENT_VERTX, new AgentSettings(sourceUri, deployment, server.ingestUrl(),
                creds.getString("agentKey"), creds.getString("certificateSha256"), null, server.config().agent()));
        join(agent.start());
        return agent;
    }

    /** Waits until the agent has acknowledged a position after {@code before} (any position if null). */
    static void awaitProgress(Agent agent, OpTime before, String what) {
        await(what, Duration.ofSeconds(60), () -> agent.acked() != null && (before == null || agent.acked().isAfter(before)));
    }

    static <T> T join(io.vertx.core.Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("operation failed: " + e.getMessage(), e);
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        fail("timed out waiting for " + what);
    }

    /** The job, or an empty object while the agent has not registered it yet. */
    static JsonObject job(TidemarkServer server, String deployment) {
        return join(server.stores().jobs().resolve(deployment).otherwise(new JsonObject()));
    }

    /**
     * Waits until the server's daemon has bound the job (by id): a test that compares a job's
     * stored record before and after something must take its baseline after that write, which is
     * the daemon's, not the request's.
     */
    static void awaitBound(TidemarkServer server, String jobId) {
        await("job " + jobId + " to be bound to a daemon", java.time.Duration.ofSeconds(30), () -> join(server.stores().jobs().find(jobId))
                .containsKey("binding"));
    }

    static OpTime latestSourceTs(MongoClient source) {
        RawBsonDocument last = Flux.from(source.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class)
                .find().sort(new BsonDocument("$natural", new BsonInt32(-1))).limit(1)).blockFirst();
        return last == null ? OpTime.ZERO : OpTime.of(last.getTimestamp("ts"));
    }

    /** The source's oplog entries after {@code after}, in oplog order, as raw bytes. */
    static List<byte[]> sourceEntries(MongoClient source, OpTime after) {
        List<byte[]> out = new ArrayList<>();
        Flux.from(source.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class)
                        .find(new BsonDocument("ts", new BsonDocument("$gt", after.toBson())))
                        .sort(new BsonDocument("$natural", new BsonInt32(1))))
                .toIterable().forEach(d -> out.add(bytes(d)));
        return out;
    }

    /** Every entry in the oplog store for a job, following the batch chain from the sync's fetch start. */
    static List<byte[]> storedEntries(OplogStore store, String job, OpTime fetchStart) {
        List<byte[]> out = new ArrayList<>();
        OpTime expectedPrev = fetchStart;
        for (OplogStore.Batch batch : store.readAfter(job, OpTime.ZERO, Integer.MAX_VALUE).toIterable()) {
            assertEquals(expectedPrev, batch.info().prev(), "the stored batches must chain without a gap");
            for (BsonFrames.Frame f : BsonFrames.split(batch.entries())) {
                out.add(Arrays.copyOfRange(batch.entries(), f.offset(), f.offset() + f.length()));
            }
            assertEquals(batch.info().count(), BsonFrames.split(batch.entries()).size());
            expectedPrev = batch.info().last();
        }
        return out;
    }

    static byte[] bytes(RawBsonDocument d) {
        var b = d.getByteBuffer();
        return Arrays.copyOfRange(b.array(), b.position(), b.position() + b.remaining());
    }

    /**
     * As {@link #assertExactlyOnceInOrder(MongoClient, TidemarkServer, String)}, where grooms ran:
     * a groom trims the oplog store's oldest batches, never past the oldest complete snapshot
     * (no restore can start before it; {@code OplogTrimmer}), so the store's chain may begin after
     * the fetch start. Asserts that it begins at or after the fetch start and, if later, at or
     * before the oldest complete snapshot; and that every source entry after its beginning is
     * stored exactly once, in order. Returns where the stored chain begins.
     */
    static OpTime assertExactlyOnceInOrderSinceTrim(MongoClient source, TidemarkServer server, String deployment) {
        io.tidemark.shared.store.Stores stores = server.stores();
        JsonObject job = join(stores.jobs().resolve(deployment));
        String id = job.getString("_id");
        OpTime fetchStart = OpTime.fromJson(job.getJsonObject("sync").getJsonObject("fetchStartTs"));
        OplogStore.BatchInfo oldest = stores.oplog().oldest(id).block(java.time.Duration.ofSeconds(30));
        OpTime from = oldest == null ? fetchStart : oldest.prev();
        assertFalse(from.compareTo(fetchStart) < 0, "the stored chain begins at " + from + ", before the fetch start " + fetchStart);
        if (!from.equals(fetchStart)) {
            OpTime oldestSnapshot = join(new io.tidemark.shared.snapshots.SnapshotCatalog(stores.metadata()).list(id, false)).stream()
                    .map(io.tidemark.shared.snapshots.SnapshotCatalog::ts).min(OpTime::compareTo)
                    .orElseThrow(() -> new AssertionError("the oplog was trimmed to " + from + " with no complete snapshot"));
            assertFalse(from.isAfter(oldestSnapshot), "the oplog was trimmed to " + from + ", past the oldest complete snapshot at "
                    + oldestSnapshot);
        }
        List<byte[]> expected = sourceEntries(source, from);
        List<byte[]> stored = storedEntries(stores.oplog(), id, from);
        assertSameEntries(expected, stored, " after " + from);
        return from;
    }

    /** The stored entries are the source's, one for one, byte for byte; {@code where} says from where. */
    private static void assertSameEntries(List<byte[]> expected, List<byte[]> stored, String where) {
        assertEquals(expected.size(), stored.size(), "stored entry count" + where);
        for (int i = 0; i < expected.size(); i++) {
            if (!Arrays.equals(expected.get(i), stored.get(i))) {
                fail("stored entry " + i + where + " differs from the source's: " + new RawBsonDocument(stored.get(i)).toJson()
                        + " vs " + new RawBsonDocument(expected.get(i)).toJson());
            }
        }
    }

    /** Asserts that the store holds every source entry after the fetch start exactly once, in order. */
    static void assertExactlyOnceInOrder(MongoClient source, TidemarkServer server, String deployment) {
        assertExactlyOnceInOrderUpTo(source, server, deployment, null);
    }

    /**
     * The same, comparing only up to {@code upTo} (a real replica set keeps writing periodic no-ops
     * after the workload stops).
     */
    static void assertExactlyOnceInOrderUpTo(MongoClient source, TidemarkServer server, String deployment, OpTime upTo) {
        assertExactlyOnceInOrder(source, server.stores(), deployment, upTo);
    }

    /** The same on stores opened without a server (several server processes share them). */
    static void assertExactlyOnceInOrder(MongoClient source, io.tidemark.shared.store.Stores stores, String deployment, OpTime upTo) {
        JsonObject job = join(stores.jobs().resolve(deployment));
        OpTime fetchStart = OpTime.fromJson(job.getJsonObject("sync").getJsonObject("fetchStartTs"));
        List<byte[]> expected = sourceEntries(source, fetchStart);
        if (upTo != null) {
            expected.removeIf(e -> OpTime.of(new RawBsonDocument(e).getTimestamp("ts")).isAfter(upTo));
        }
        List<byte[]> stored = storedEntries(stores.oplog(), job.getString("_id"), fetchStart);
        assertSameEntries(expected, stored, "");
    }

    static MongoClient client(String uri) {
        return MongoClients.create(uri);
    }
}
