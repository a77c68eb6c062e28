package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static io.tidemark.restore.pit.PitFixture.doc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.OplogApplier;
import io.tidemark.restore.rebuild.HeadRebuildException;
import io.tidemark.restore.rebuild.HeadRebuilds;
import io.tidemark.restore.rebuild.RebuildResult;
import io.tidemark.restore.snapshot.SnapshotRestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.snapshotter.DeltaPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A head rebuilt from the latest snapshot (a delta chain) plus the oplog store equals the head the
 * job has, at the same position: every document byte for byte, the catalog, the pending
 * transactions (a prepared and a large unprepared transaction span the snapshot's position, and
 * one is still undecided at the tip); both then apply the same new entries and stay equal; and
 * the rebuilt head's next snapshot is a delta on the snapshot it came from that restores exactly.
 */
class HeadRebuildTest {

    static final long BASE = 1_700_200_000L;

    @TempDir
    Path dir;

    static SnapshotTaker deltaTaker(PitFixture fx) {
        return new SnapshotTaker(fx.blocks, fx.manifests, fx.catalog, fx.cpu, fx.io,
                BlockWriter.Options.defaults().withChunking(new ChunkingParams(1024, 4096, 16384)),
                new DeltaPolicy(true, 3, 10.0));
    }

    static HeadRebuilds rebuilds(PitFixture fx) {
        return new HeadRebuilds(fx.catalog, fx.manifests, fx.stores.oplog(), fx.blocks, HeadRebuilds.DEFAULT_TRANSACTION_LOOKBACK);
    }

    /** What the workload left undecided at the tip, for the test to finish. */
    record Workload(SnapshotSummary last, UUID openSession, BsonTimestamp openPrepare, UUID a, PitFixture.Entries entries,
                    int replayedAfterLast) {
    }

    /**
     * Inserts, {@code $v: 2} updates, replacements, deletes, an index build, collections created
     * and dropped, transactions; a full snapshot, two deltas on it (the last one cut while three
     * transactions are in flight), then more oplog.
     */
    static Workload workload(PitFixture.Job job, SnapshotTaker taker, int documents) {
        PitFixture.Entries e = new PitFixture.Entries(BASE + 1, 1000);
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        UUID c = UUID.randomUUID();
        UUID d = UUID.randomUUID();
        List<RawBsonDocument> batch = PitFixture.list(e.create("db", "a", a), e.create("db", "b", b));
        for (int i = 0; i < documents; i++) {
            batch.add(e.insert("db.a", a, doc(i, "text " + i + " ".repeat(i % 50), i)));
            if (i % 2 == 0) {
                batch.add(e.insert("db.b", b, doc(i, "b " + i, i)));
            }
        }
        job.apply(batch);
        SnapshotSummary full = job.snapshot(taker);
        assertFalse(full.manifest().isDelta());

        batch = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            batch.add(e.update("db.a", a, i, 10_000 + i));
        }
        for (int i = 0; i < 20; i += 2) {
            batch.add(e.replace("db.b", b, doc(i, "replaced " + i, -i)));
        }
        for (int i = 150; i < 170; i++) {
            batch.add(e.delete("db.a", a, i));
        }
        batch.add(e.createIndex("db", "a", a, "n", false));
        batch.add(e.create("db", "c", c));
        for (int i = 0; i < 30; i++) {
            batch.add(e.insert("db.c", c, doc(i, "c " + i, i)));
        }
        job.apply(batch);
        SnapshotSummary second = job.snapshot(taker);
        assertTrue(second.manifest().isDelta(), "second snapshot is a delta: " + second.manifest().chain());

        // Three transactions in flight across the next snapshot: a large prepared one (a partialTxn
        // entry, then the prepare), a large unprepared one (a partialTxn entry so far), and a prepared
        // one that is still undecided at the tip.
        UUID s1 = UUID.randomUUID();
        UUID s2 = UUID.randomUUID();
        UUID s3 = UUID.randomUUID();
        RawBsonDocument p1 = e.txn(s1, 1, null, "partialTxn", 0, PitFixture.Entries.insertOp("db.a", a, doc(1000, "t1", 1)),
                PitFixture.Entries.updateOp("db.a", a, 1, 777));
        RawBsonDocument between = e.update("db.a", a, 2, 5);
        RawBsonDocument p2 = e.txn(s1, 1, p1.getTimestamp("ts"), "prepare", 3, PitFixture.Entries.insertOp("db.b", b, doc(1001, "t1", 2)));
        RawBsonDocument q1 = e.txn(s2, 5, null, "partialTxn", 0, PitFixture.Entries.insertOp("db.c", c, doc(2000, "t2", 3)));
        RawBsonDocument deleted = e.delete("db.b", b, 4);
        RawBsonDocument r1 = e.txn(s3, 7, null, "prepare", 1, PitFixture.Entries.insertOp("db.a", a, doc(3000, "t3", 4)));
        batch = PitFixture.list(p1, between, p2, q1, deleted, r1);
        job.apply(batch);
        SnapshotSummary third = job.snapshot(taker);
        assertTrue(third.manifest().isDelta() && third.manifest().chain().depth() == 2, "a chain of two deltas: " + third.manifest().chain());
        assertEquals(3, job.head.pendingTransactionCount());

        int after = 0;
        batch = new ArrayList<>();
        batch.add(e.commit(s1, 1, p2.getTimestamp("ts")));
        batch.add(e.txn(s2, 5, q1.getTimestamp("ts"), null, 2, PitFixture.Entries.insertOp("db.c", c, doc(2001, "t2", 5))));
        batch.add(e.drop("db", "b", b));
        batch.add(e.create("db", "d", d));
        for (int i = 0; i < 40; i++) {
            batch.add(e.insert("db.d", d, doc(i, "d " + i, i)));
            batch.add(e.update("db.a", a, 60 + i, i));
        }
        after += batch.size();
        job.apply(batch);
        batch = new ArrayList<>();
        batch.add(e.delete("db.a", a, 10));
        batch.add(e.replace("db.c", c, doc(3, "again", 3)));
        after += batch.size();
        job.apply(batch);
        assertEquals(1, job.head.pendingTransactionCount());
        return new Workload(third, s3, r1.getTimestamp("ts"), a, e, after);
    }

    @Test
    void rebuiltHeadEqualsTheJobsHeadAndStaysEqual() {
        try (PitFixture fx = new PitFixture(dir)) {
            SnapshotTaker taker = deltaTaker(fx);
            PitFixture.Job job = fx.new Job("move-a", new OpTime(BASE, 0));
            Workload w = workload(job, taker, 400);
            Path target = dir.resolve("heads").resolve("move-a");
            AtomicLongs progress = new AtomicLongs();
            RebuildResult result = rebuilds(fx).rebuild(job.id, target, progress).block(TIMEOUT);

            assertEquals(w.last().snapshotId(), result.snapshotId());
            assertEquals(2, result.chainDepth());
            assertEquals(3, result.pendingTransactions());
            assertEquals(w.replayedAfterLast(), result.entriesReplayed());
            assertEquals(OpTime.of(job.head.appliedTs()), result.reached());
            assertTrue(result.deltaLineage());
            assertTrue(result.bytesLoaded() > 0 && progress.loaded == result.bytesLoaded(), "progress " + progress.loaded);
            assertEquals(result.entriesReplayed(), progress.replayed);
            assertFalse(Files.exists(target.resolveSibling("move-a.rebuilding")), "no staging head left");

            try (Head rebuilt = Head.open(target)) {
                assertSameHead(job.head, rebuilt);
                assertEquals(1, rebuilt.pendingTransactionCount());

                // Both go on: the transaction left open commits, more writes.
                PitFixture.Entries e = w.entries();
                List<RawBsonDocument> more = PitFixture.list(e.commit(w.openSession(), 7, w.openPrepare()));
                for (int i = 0; i < 25; i++) {
                    more.add(e.update("db.a", w.a(), 200 + i, -i));
                    more.add(e.insert("db.a", w.a(), doc(5000 + i, "late", i)));
                }
                job.apply(more);
                new OplogApplier(rebuilt).apply(more, OplogApplier.Mode.STEADY);
                assertSameHead(job.head, rebuilt);
                assertEquals(0, rebuilt.pendingTransactionCount());

                // The rebuilt head's next snapshot is a delta on the one it was rebuilt from, and exact.
                SnapshotSummary next = taker.take(job.id, rebuilt).block(TIMEOUT);
                assertTrue(next.manifest().isDelta(), "a delta: " + next.manifest().chain());
                assertEquals(w.last().snapshotId(), next.manifest().chain().parent());
                try (SnapshotRestoreSource source = SnapshotRestoreSource.open(fx.manifests, new BlockReader(fx.blocks, 2),
                        next.snapshotId()).block(TIMEOUT)) {
                    DeltaChainTest.assertSame(DeltaChainTest.content(rebuilt), DeltaChainTest.content(source), "delta snapshot of the rebuilt head");
                }
            }
            job.close();
        }
    }

    @Test
    void refusesWithoutACompleteSnapshotOrWhenTheOplogNoLongerReachesIt() {
        try (PitFixture fx = new PitFixture(dir)) {
            PitFixture.Job job = fx.new Job("move-b", new OpTime(BASE, 0));
            PitFixture.Entries e = new PitFixture.Entries(BASE + 1, 1000);
            UUID a = UUID.randomUUID();
            job.apply(PitFixture.list(e.create("db", "a", a), e.insert("db.a", a, doc(1, "x", 1))));
            Path target = dir.resolve("heads").resolve("move-b");
            HeadRebuildException none = assertThrows(HeadRebuildException.class,
                    () -> rebuilds(fx).rebuild(job.id, target).block(TIMEOUT));
            assertTrue(none.getMessage().contains("no complete snapshot") && none.getMessage().contains("initial sync"), none.getMessage());

            SnapshotSummary s = job.snapshot();
            job.apply(PitFixture.list(e.insert("db.a", a, doc(2, "y", 2))));
            job.apply(PitFixture.list(e.insert("db.a", a, doc(3, "z", 3))));
            // The groomer trims the oplog past the snapshot's position: the gap cannot be replayed.
            fx.stores.oplog().trimThrough(job.id, OpTime.of(e.insert("db.a", a, doc(9, "-", 9)).getTimestamp("ts"))).block(TIMEOUT);
            HeadRebuildException gap = assertThrows(HeadRebuildException.class,
                    () -> rebuilds(fx).rebuild(job.id, target).block(TIMEOUT));
            assertTrue(gap.getMessage().contains("no longer covers") && gap.getMessage().contains(s.manifest().ts().toString()),
                    gap.getMessage());
            assertFalse(Files.exists(target));
            job.close();
        }
    }

    static final class AtomicLongs implements io.tidemark.restore.rebuild.RebuildProgress {
        volatile long loaded;
        volatile long replayed;

        @Override
        public synchronized void loaded(long bytes) {
            loaded += bytes;
        }

        @Override
        public synchronized void replayed(long entries) {
            replayed += entries;
        }
    }

    /** Same position (and term), catalog, documents byte for byte, pending transactions. */
    static void assertSameHead(Head expected, Head actual) {
        assertEquals(expected.appliedPosition(), actual.appliedPosition());
        assertEquals(catalog(expected), catalog(actual));
        DeltaChainTest.assertSame(DeltaChainTest.content(expected), DeltaChainTest.content(actual), "rebuilt head");
        assertEquals(expected.documentCounts(), actual.documentCounts());
        assertEquals(expected.pendingTransactionCount(), actual.pendingTransactionCount());
    }

    static List<String> catalog(Head head) {
        List<String> out = new ArrayList<>();
        try (HeadView view = head.openView()) {
            for (NamespaceEntry n : view.namespaces()) {
                out.add(n.ns() + " " + n.uuid() + " " + n.type() + " " + n.options().toJson() + " " + n.indexes());
            }
        }
        out.sort(null);
        return out;
    }
}
