package io.tidemark.shared.daemons;

import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Block sweeps and other daemons' snapshots on one store, on a real store: a sweep deletes nothing
 * while another daemon's snapshot runs, a snapshot waits while another daemon sweeps, a daemon's
 * own snapshots do not hold up its sweeps, and a snapshot whose daemon was paused past its lease
 * while another daemon swept is refused its completion.
 */
class SweepLocksTest {

    private static final long LEASE = 4_000;

    @TempDir
    Path tmp;

    private EmbeddedMongo mongo;
    private Vertx vertx;
    private Stores stores;
    private SweepLocks a;
    private SweepLocks b;

    @BeforeEach
    void open() {
        mongo = EmbeddedMongo.inMemoryWithOplog();
        vertx = VertxFactory.create();
        stores = await(Stores.open(vertx, ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", tmp.toString(),
                "TIDEMARK_MONGODB_METADATAURI", mongo.uri() + "/meta", "TIDEMARK_MONGODB_BLOCKSTOREURI", mongo.uri() + "/bs"))));
        a = new SweepLocks(vertx, stores.metadata(), "d-a", LEASE);
        b = new SweepLocks(vertx, stores.metadata(), "d-b", LEASE);
    }

    @AfterEach
    void close() {
        a.close();
        b.close();
        stores.close();
        await(vertx.close());
        mongo.close();
    }

    @Test
    void sweepsAndOtherDaemonsSnapshotsNeverOverlap() throws Exception {
        long count = await(a.admitSnapshot("s1"));
        assertTrue(await(a.acquireSweep(0)), "a daemon's own snapshot is its fence's business, not the lock's");
        await(a.releaseSweep());
        assertFalse(await(b.acquireSweep(1_500)), "no sweep of another daemon while the snapshot runs");
        assertEquals(count, await(a.admitSnapshot("s1b")), "a sweep that deleted nothing was not counted against it");
        await(a.unswept("s1", count));
        await(a.releaseSnapshot("s1"));
        await(a.releaseSnapshot("s1b"));

        assertTrue(await(b.acquireSweep(1_500)), "once it ended");
        Future<Long> waiting = a.admitSnapshot("s2");
        Thread.sleep(2_500);
        assertFalse(waiting.isComplete(), "a snapshot waits while another daemon sweeps, longer than the lock's own renewals");
        await(b.releaseSweep());
        long afterSweep = await(waiting);
        assertTrue(afterSweep > count, "b's sweep is counted");
        await(a.unswept("s2", afterSweep));
        await(a.releaseSnapshot("s2"));
    }

    @Test
    void aSnapshotPausedPastItsLeaseWhileAnotherDaemonSweptIsRefusedItsCompletion() throws Exception {
        long count = await(a.admitSnapshot("s3"));
        a.close(); // no more renewals: as if the process were frozen
        await(stores.metadata().updateCollection(SweepLocks.COLLECTION, new JsonObject().put("_id", "snapshot:s3"),
                new JsonObject().put("$set", new JsonObject().put("until", System.currentTimeMillis() - 1))));
        assertTrue(await(b.acquireSweep(1_500)), "an expired snapshot lock holds nobody up");
        await(b.releaseSweep());
        IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> await(a.unswept("s3", count)));
        assertTrue(refused.getMessage().contains("swept"), refused.getMessage());
    }

    private static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
