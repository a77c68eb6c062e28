package io.tidemark.groomer;

import io.tidemark.shared.daemons.DaemonRegistry;
import io.tidemark.shared.daemons.HeldBindings;
import io.tidemark.shared.daemons.JobBindings;
import io.tidemark.shared.daemons.StaleBindingException;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.store.OplogStore;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A daemon that lost a job's binding deletes nothing of it: its groom is refused before the oplog
 * trim, and the oplog and the catalog stay as they were; the new owner's groom then trims.
 */
class GroomFenceTest {

    @TempDir
    static Path dir;

    static GroomFixture fx;

    @BeforeAll
    static void start() {
        fx = new GroomFixture(dir.resolve("data"), Map.of("TIDEMARK_RESTORE_PITWINDOWHOURS", "24"));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static HeldBindings daemon(String id) {
        await(new DaemonRegistry(fx.stores.metadata()).heartbeat(id, new JsonObject().put("headFreeBytes", 1L << 30)));
        return new HeldBindings(fx.vertx, fx.stores.metadata(), id, fx.config.daemons());
    }

    private static List<OplogStore.BatchInfo> batches(String job) {
        return fx.stores.oplog().batchesAfter(job, OpTime.ZERO, 10_000).collectList().block(TIMEOUT);
    }

    @Test
    void anExOwnersGroomTrimsNothingAndTheNewOwnersDoes() {
        long now = Instant.now().getEpochSecond() / 3600 * 3600;
        long t0 = now - 3 * 86_400;
        fx.clock.set(Instant.ofEpochSecond(now));
        String job = fx.activeJob("groom-fence-" + System.nanoTime(), new OpTime(t0, 1), new OpTime(t0 + 60, 1), new OpTime(now, 1));
        OpTime prev = new OpTime(t0, 1);
        for (long t = t0; t < now; t += 6 * 3600) {
            OpTime last = new OpTime(t + 6 * 3600, 1);
            fx.stores.oplog().store(job, prev, new OpTime(t + 1, 1), last, 1, new byte[100], "00").block(TIMEOUT);
            prev = last;
        }
        for (long t = t0 + 3600; t <= now; t += 12 * 3600) {
            String id = io.tidemark.snapshotter.SnapshotTaker.newSnapshotId();
            Manifest m = new Manifest(id, job, new OpTime(t, 1), Instant.ofEpochSecond(t), List.of());
            await(fx.catalog.begin(id, job, m.ts(), m.createdAt(), null));
            fx.manifests.writeHeader(m).block(TIMEOUT);
            await(fx.catalog.markComplete(id, m));
        }
        HeldBindings exOwner = daemon("d-ex");
        await(exOwner.claim(await(fx.stores.jobs().list())));
        assertTrue(exOwner.runs(job));
        FencedBlockStore blocks = fx.blockStore(dir);
        Groomer stale = new Groomer(fx.config, fx.stores, blocks, fx.clock, exOwner);

        assertTrue(await(new JobBindings(fx.stores.metadata()).take(job, 1, "d-new", 60_000)));
        List<OplogStore.BatchInfo> oplogBefore = batches(job);
        List<JsonObject> catalogBefore = await(fx.catalog.list(job, true));
        RuntimeException refused = assertThrows(RuntimeException.class, () -> stale.groom(job, false, Groomer.Sweep.ALWAYS));
        assertTrue(StaleBindingException.is(refused), refused.toString());
        assertEquals(oplogBefore, batches(job), "the ex-owner trimmed nothing");
        assertEquals(catalogBefore, await(fx.catalog.list(job, true)), "the ex-owner expired nothing");

        HeldBindings newOwner = daemon("d-new");
        await(newOwner.claim(await(fx.stores.jobs().list())));
        GroomReport report = new Groomer(fx.config, fx.stores, blocks, fx.clock, newOwner).groom(job, false, Groomer.Sweep.ALWAYS);
        assertTrue(report.oplogBatchesTrimmed() > 0, "there was something to trim: " + report.toJson());
        assertTrue(batches(job).size() < oplogBefore.size());
    }
}
