package io.tidemark.groomer;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.store.OplogStore;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * Three days of oplog in 10-minute batches and a snapshot every 6 hours, groomed with the clock
 * at the end and a 24-hour window: every restore to a moment inside the window still finds its
 * snapshot and every oplog entry after it, and every batch no such restore needs is gone.
 */
class OplogWindowTest {

    private static final long BATCH_SECONDS = 600;

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

    /** Batches covering (t0, t0 + 3 days], the first one big enough to be stored in parts. */
    private static List<OplogStore.BatchInfo> writeOplog(String job, long t0) {
        OpTime prev = new OpTime(t0, 1);
        for (long t = t0; t < t0 + 3 * 86_400; t += BATCH_SECONDS) {
            byte[] raw = new byte[t == t0 ? 9 << 20 : 200];
            new SplittableRandom(t).nextBytes(raw);
            OpTime first = new OpTime(t + 1, 1);
            OpTime last = new OpTime(t + BATCH_SECONDS, 1);
            fx.stores.oplog().store(job, prev, first, last, 1, raw, "00").block(TIMEOUT);
            prev = last;
        }
        return batches(job);
    }

    private static List<OplogStore.BatchInfo> batches(String job) {
        return fx.stores.oplog().batchesAfter(job, OpTime.ZERO, 100_000).collectList().block(TIMEOUT);
    }

    private static void snapshot(String job, long seconds) {
        String id = io.tidemark.snapshotter.SnapshotTaker.newSnapshotId();
        OpTime ts = new OpTime(seconds, 1);
        Instant at = Instant.ofEpochSecond(seconds);
        await(fx.catalog.begin(id, job, ts, at, null));
        Manifest m = new Manifest(id, job, ts, at, List.of());
        fx.manifests.writeHeader(m).block(TIMEOUT);
        await(fx.catalog.markComplete(id, m));
    }

    private static long parts() {
        return Mono.from(fx.stores.blockstore().database().getCollection("oplog.parts", BsonDocument.class)
                .countDocuments()).block(TIMEOUT);
    }

    @Test
    void aRestoreInsideTheWindowFindsEverythingItNeedsAndNothingElseIsKept() {
        long now = Instant.now().getEpochSecond() / 3600 * 3600;
        long t0 = now - 3 * 86_400;
        fx.clock.set(Instant.ofEpochSecond(now));
        String job = fx.activeJob("window-" + System.nanoTime(), new OpTime(t0, 1), new OpTime(t0 + 60, 1),
                new OpTime(now, 1));
        List<OplogStore.BatchInfo> before = writeOplog(job, t0);
        assertTrue(parts() > 0, "the first batch is stored in parts");
        for (long t = t0 + 3600; t <= now; t += 6 * 3600) {
            snapshot(job, t);
        }
        Groomer groomer = fx.groomer(fx.blockStore(dir));

        GroomReport dry = groomer.groom(job, true, Groomer.Sweep.IF_THRESHOLD);
        assertEquals(before.size(), batches(job).size(), "a dry run trims nothing");
        GroomReport report = groomer.groom(job, false, Groomer.Sweep.IF_THRESHOLD);
        assertEquals(dry.oplogCut(), report.oplogCut());
        assertEquals(dry.oplogBatchesTrimmed(), report.oplogBatchesTrimmed());

        // S: the newest snapshot still in the catalog at or before the window's start.
        long windowStart = now - 24 * 3600;
        List<OpTime> kept = new ArrayList<>();
        await(fx.catalog.list(job, false)).forEach(e -> kept.add(io.tidemark.shared.snapshots.SnapshotCatalog.ts(e)));
        OpTime s = kept.stream().filter(ts -> ts.seconds() <= windowStart).max(OpTime::compareTo).orElseThrow();
        assertEquals(s, report.oplogCut());

        List<OplogStore.BatchInfo> after = batches(job);
        List<OplogStore.BatchInfo> expected = before.stream().filter(b -> b.last().compareTo(s) > 0).toList();
        assertEquals(expected, after, "exactly the batches ending after S remain");
        assertEquals(before.size() - expected.size(), report.oplogBatchesTrimmed());
        assertEquals(0, parts(), "the trimmed batch's parts went with it");

        // Every moment P in the window: its snapshot is kept and the chain after it is whole.
        OplogStore.BatchInfo oldest = after.get(0);
        for (long p = windowStart; p <= now; p += 60) {
            long target = p;
            OpTime base = kept.stream().filter(ts -> ts.seconds() <= target).max(OpTime::compareTo).orElse(null);
            assertNotNull(base, "a snapshot to restore " + p + " from");
            assertTrue(oldest.prev().compareTo(base) <= 0, "entries after " + base + " are all stored");
        }
        for (int i = 1; i < after.size(); i++) {
            assertEquals(after.get(i - 1).last(), after.get(i).prev(), "no gap");
        }
    }

    @Test
    void neverTrimsWhatTheHeadHasNotAppliedAndKeepsTheNewestBatch() {
        long now = Instant.now().getEpochSecond() / 3600 * 3600;
        long t0 = now - 3 * 86_400;
        fx.clock.set(Instant.ofEpochSecond(now));
        OpTime applied = new OpTime(t0 + 3600 + 5 * BATCH_SECONDS, 1);
        String job = fx.activeJob("lagging-" + System.nanoTime(), new OpTime(t0, 1), new OpTime(t0 + 60, 1), applied);
        List<OplogStore.BatchInfo> before = writeOplog(job, t0);
        for (long t = t0 + 3600; t <= now; t += 6 * 3600) {
            snapshot(job, t);
        }
        GroomReport report = fx.groomer(fx.blockStore(dir)).groom(job, false, Groomer.Sweep.IF_THRESHOLD);
        assertEquals(applied, report.oplogCut());
        List<OplogStore.BatchInfo> after = batches(job);
        assertEquals(before.stream().filter(b -> b.last().compareTo(applied) > 0).toList(), after);

        // A job whose every batch is at or before the cut keeps its newest one.
        String quiet = fx.activeJob("quiet-" + System.nanoTime(), new OpTime(t0, 1), new OpTime(t0 + 60, 1),
                new OpTime(now + 10, 1));
        OpTime prev = new OpTime(t0, 1);
        for (int i = 1; i <= 3; i++) {
            OpTime last = new OpTime(t0 + i * 10, 1);
            fx.stores.oplog().store(quiet, prev, new OpTime(prev.seconds() + 1, 1), last, 1, new byte[10], "00").block(TIMEOUT);
            prev = last;
        }
        snapshot(quiet, now - 2 * 86_400);
        snapshot(quiet, now);
        fx.groomer(fx.blockStore(dir)).groom(quiet, false, Groomer.Sweep.IF_THRESHOLD);
        assertEquals(List.of(prev), batches(quiet).stream().map(OplogStore.BatchInfo::last).toList());
    }
}
