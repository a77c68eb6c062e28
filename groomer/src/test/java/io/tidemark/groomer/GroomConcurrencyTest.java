package io.tidemark.groomer;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.Head;
import io.tidemark.shared.snapshots.RetentionPolicies;
import io.tidemark.shared.snapshots.RetentionPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshots keep being taken while grooms run back to back, with a policy and a clock under
 * which every snapshot but the first (kept as the month's), the newest and a running one's base
 * expires, and a head whose data comes back every third version: each new snapshot finds the
 * blocks of a snapshot that has just expired, exactly when sweeps are deleting them. After
 * every groom, and at the end, no live snapshot misses a block; at the end every remaining
 * snapshot is reassembled from its manifest and the blocks and compared byte for byte with
 * what the head held when it was taken.
 */
class GroomConcurrencyTest {

    private static final Logger LOG = LoggerFactory.getLogger(GroomConcurrencyTest.class);
    private static final int SNAPSHOTS = 18;

    @TempDir
    static Path dir;

    static GroomFixture fx;

    @BeforeAll
    static void start() {
        fx = new GroomFixture(dir.resolve("data"), Map.of("TIDEMARK_GROOM_BLOCKGRACEMINUTES", "0"));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @Test
    void snapshotsTakenWhileGroomsRunAllRestoreExactlyAndNoLiveBlockGoesMissing() throws Exception {
        FencedBlockStore store = fx.blockStore(dir);
        SnapshotTaker taker = TestHeads.taker(fx, store);
        Groomer groomer = fx.groomer(store);
        SnapshotChecker checker = fx.checker(store);
        String job = fx.activeJob("concurrent-" + System.nanoTime(), io.tidemark.shared.oplog.OpTime.ZERO,
                io.tidemark.shared.oplog.OpTime.ZERO, io.tidemark.shared.oplog.OpTime.ZERO);
        // Kept: the month's first snapshot, the newest, a running snapshot's base. The clock is
        // a day and a half ahead, so the interval tier (one day) keeps nothing.
        await(new RetentionPolicies(fx.stores.metadata()).put(job, new RetentionPolicy(24, 1, 0, 0, 1)));
        fx.clock.set(Instant.now().plus(Duration.ofHours(36)));

        Map<String, Map<String, byte[]>> expected = new ConcurrentHashMap<>();
        AtomicBoolean snapshotting = new AtomicBoolean(true);
        List<Throwable> groomFailures = new CopyOnWriteArrayList<>();
        AtomicLong grooms = new AtomicLong();
        AtomicLong expired = new AtomicLong();
        AtomicLong deleted = new AtomicLong();
        AtomicLong lookedUp = new AtomicLong();
        Thread groomThread = new Thread(() -> {
            try {
                while (snapshotting.get()) {
                    GroomReport r = groomer.groom(job, false, Groomer.Sweep.ALWAYS);
                    grooms.incrementAndGet();
                    expired.addAndGet(r.expired().size());
                    deleted.addAndGet(r.blocksDeleted());
                    lookedUp.addAndGet(r.blocks().skippedFound());
                    SnapshotChecker.Report check = checker.check(job, false);
                    if (!check.ok()) {
                        throw new AssertionError("after groom " + grooms.get() + ": " + check.toJson().encodePrettily());
                    }
                }
            } catch (Throwable t) {
                groomFailures.add(t);
            }
        }, "test-groomer");

        try (Head head = TestHeads.open(dir.resolve("head"))) {
            groomThread.start();
            for (int v = 0; v < SNAPSHOTS && groomFailures.isEmpty(); v++) {
                TestHeads.write(head, v);
                Map<String, byte[]> content = TestHeads.content(head);
                String id = SnapshotTaker.newSnapshotId();
                expected.put(id, content);
                SnapshotSummary s = taker.take(job, head, id).block(TIMEOUT);
                assertEquals(id, s.snapshotId());
            }
            snapshotting.set(false);
            groomThread.join(TIMEOUT.toMillis());
        }
        assertTrue(groomFailures.isEmpty(), () -> "grooms failed: " + groomFailures);

        // One more groom with nothing running: only what the policy keeps is left.
        GroomReport last = groomer.groom(job, false, Groomer.Sweep.ALWAYS);
        List<JsonObject> remaining = await(fx.catalog.list(job, false));
        LOG.warn("{} snapshots, {} grooms, {} expired, {} blocks deleted, {} kept because snapshots looked them up; left: {}",
                SNAPSHOTS, grooms.get() + 1, expired.get() + last.expired().size(), deleted.get() + last.blocksDeleted(),
                lookedUp.get(), remaining.size());
        assertTrue(grooms.get() >= 2, "grooms ran while snapshots did: " + grooms.get());
        assertTrue(expired.get() + last.expired().size() >= SNAPSHOTS - 2, "snapshots expired");
        assertTrue(deleted.get() + last.blocksDeleted() > 0, "blocks were collected");
        assertTrue(remaining.size() >= 2 && remaining.size() <= 3, "kept " + remaining.size());

        for (JsonObject e : remaining) {
            String id = e.getString("_id");
            TestHeads.assertRestoresExactly(fx.manifests, store, id, expected.get(id));
        }
        SnapshotChecker.Report report = checker.check(job, true);
        assertTrue(report.ok(), report.toJson().encodePrettily());
        assertEquals(remaining.size(), report.snapshots());

        // And nothing the live snapshots do not reference is left behind.
        GroomReport settle = groomer.groom(job, false, Groomer.Sweep.ALWAYS);
        assertEquals(settle.blocks().blocksLive(), store.list().count().block(TIMEOUT),
                "after a quiet sweep the store holds exactly the live blocks");
    }
}
