package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.await;
import static io.tidemark.restore.pit.PitFixture.doc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.ApplierVerticle;
import io.tidemark.applier.Head;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The applier builds a job's head by rebuild when the job's initial sync data is gone (as it is
 * once a head caught up), then follows the oplog store from the rebuilt position with no initial
 * sync; and rebuilds it again when asked ({@link ApplierVerticle#rebuildHead}).
 */
class ApplierRebuildTest {

    @TempDir
    java.nio.file.Path dir;

    @Test
    void theApplierRebuildsAMissingHeadAndFollowsTheOplogFromThere() throws Exception {
        try (PitFixture fx = new PitFixture(dir)) {
            PitFixture.Job job = fx.new Job("move-applier", new OpTime(HeadRebuildTest.BASE, 0));
            HeadRebuildTest.Workload w = HeadRebuildTest.workload(job, HeadRebuildTest.deltaTaker(fx), 300);
            // The job's sync completed long ago and its slices were removed: the sync store has nothing.
            OpTime start = new OpTime(HeadRebuildTest.BASE, 0);
            await(fx.stores.jobs().set(job.id, new JsonObject().put("sync", new JsonObject().put("generation", 1L)
                    .put("complete", true).put("startTs", start.toJson()).put("endTs", start.toJson()))));
            ApplierVerticle applier = new ApplierVerticle(fx.config, fx.stores).rebuildingWith(HeadRebuildTest.rebuilds(fx));
            await(fx.vertx.deployVerticle(applier));

            Head head = waitFor(applier, job, OpTime.of(job.head.appliedTs()));
            assertTrue(Files.isDirectory(fx.config.headsPath().resolve(job.id)));
            HeadRebuildTest.assertSameHead(job.head, head);

            // New oplog: the applier applies it from the rebuilt position.
            PitFixture.Entries e = w.entries();
            List<RawBsonDocument> more = new ArrayList<>();
            more.add(e.commit(w.openSession(), 7, w.openPrepare()));
            for (int i = 0; i < 20; i++) {
                more.add(e.insert("db.a", w.a(), doc(7000 + i, "after the rebuild", i)));
            }
            job.apply(more);
            head = waitFor(applier, job, OpTime.of(job.head.appliedTs()));
            HeadRebuildTest.assertSameHead(job.head, head);

            // Asked to, it replaces the head by a new rebuild (a job moving here) and goes on.
            String before = head.incarnation();
            OpTime at = applier.rebuildHead(job.id).toCompletionStage().toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(OpTime.of(job.head.appliedTs()), at);
            Head again = applier.head(job.id).orElseThrow();
            assertTrue(again != head);
            assertEquals(before, again.incarnation(), "the lineage of the job's snapshot, as before");
            HeadRebuildTest.assertSameHead(job.head, again);
            await(fx.vertx.undeploy(fx.vertx.deploymentIDs().iterator().next()));
            job.close();
        }
    }

    private static Head waitFor(ApplierVerticle applier, PitFixture.Job job, OpTime position) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            Head h = applier.head(job.id).orElse(null);
            if (h != null && OpTime.of(h.appliedTs()).equals(position)) {
                return h;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the applier's head of " + job.id + " did not reach " + position + ": "
                + applier.head(job.id).map(h -> OpTime.of(h.appliedTs()).toString()).orElse("no head"));
    }
}
