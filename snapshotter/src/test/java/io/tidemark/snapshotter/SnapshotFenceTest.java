package io.tidemark.snapshotter;

import io.tidemark.applier.Head;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.daemons.DaemonRegistry;
import io.tidemark.shared.daemons.HeldBindings;
import io.tidemark.shared.daemons.JobBindings;
import io.tidemark.shared.daemons.StaleBindingException;
import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.bench.SyntheticHead;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.tidemark.snapshotter.SnapshotFixture.TIMEOUT;
import static io.tidemark.snapshotter.SnapshotFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A daemon that lost a job's binding cannot add a snapshot to the job: its taker's catalog entry
 * and manifest are refused, and the catalog is as the new owner left it.
 */
class SnapshotFenceTest {

    @TempDir
    static Path shared;

    static SnapshotFixture fx;

    @BeforeAll
    static void start() {
        fx = new SnapshotFixture(shared.resolve("data"));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @Test
    void anExOwnersSnapshotLeavesNoCatalogEntryAndNoManifest(@TempDir Path dir) {
        String job = await(fx.stores.jobs().register("fenced-" + System.nanoTime())).getString("_id");
        await(new DaemonRegistry(fx.stores.metadata()).heartbeat("d-a", new JsonObject().put("headFreeBytes", 1L << 30)));
        HeldBindings a = new HeldBindings(fx.vertx, fx.stores.metadata(), "d-a", fx.config.daemons());
        await(a.claim(await(fx.stores.jobs().list())));
        assertTrue(a.runs(job));
        BlockStore store = fx.blockStore("filesystem", dir);
        SnapshotTaker taker = fx.taker(store).fencedBy(a);
        try (Head head = Head.open(dir.resolve("head"))) {
            SyntheticHead.load(head, new SyntheticDocuments(3), 256 << 10);
            SnapshotSummary owned = taker.take(job, head).block(TIMEOUT);
            List<JsonObject> before = await(fx.catalog.list(job, true));
            assertEquals(1, before.size(), "the owner's snapshot landed");

            assertTrue(await(new JobBindings(fx.stores.metadata()).take(job, 1, "d-b", 60_000)));
            String stale = SnapshotTaker.newSnapshotId();
            RuntimeException refused = assertThrows(RuntimeException.class, () -> taker.take(job, head, stale, true, () -> { }).block(TIMEOUT));
            assertTrue(StaleBindingException.is(refused), refused.toString());
            assertEquals(before, await(fx.catalog.list(job, true)), "no entry of the ex-owner's");
            assertNull(await(fx.catalog.find(stale)));
            assertNull(fx.manifests.read(stale).block(TIMEOUT), "no manifest header of the ex-owner's");
            assertEquals(owned.snapshotId(), before.get(0).getString("_id"));
        }
    }
}
