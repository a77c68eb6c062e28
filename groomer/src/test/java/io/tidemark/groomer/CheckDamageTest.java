package io.tidemark.groomer;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tidemark.applier.Head;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.testing.Damage;
import io.tidemark.snapshotter.SnapshotTaker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/** {@code check} on a packed store: missing told from corrupt, and the snapshots each damages. */
class CheckDamageTest {

    @TempDir
    static Path shared;

    static GroomFixture fx;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        fx = new GroomFixture(shared.resolve("data"), Map.of("TIDEMARK_GROOM_BLOCKGRACEMINUTES", "0"));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @Test
    void checkTellsMissingFromCorruptAndNamesEverySnapshotAndReferenceEachDamages() throws Exception {
        PackBlockStore packs = new PackBlockStore(dir.resolve("packed"), fx.io);
        try {
            FencedBlockStore store = new FencedBlockStore(packs, new BlockFence(20, 0));
            String job = fx.activeJob("job-" + System.nanoTime(), OpTime.ZERO, OpTime.ZERO, OpTime.ZERO);
            SnapshotTaker taker = TestHeads.taker(fx, store);
            try (Head head = TestHeads.open(dir.resolve("head"))) {
                for (int v = 0; v < 2; v++) {
                    TestHeads.write(head, v);
                    taker.take(job, head).block(TIMEOUT);
                }
            }
            List<String> snapshots = await(fx.catalog.list(job, false)).stream()
                    .map(j -> j.getString("_id")).toList();
            String older = await(fx.catalog.latestComplete(job)).getString("_id").equals(snapshots.get(0))
                    ? snapshots.get(1) : snapshots.get(0);
            String newer = snapshots.get(0).equals(older) ? snapshots.get(1) : snapshots.get(0);
            Set<BlockId> inOlder = new HashSet<>(fx.manifests.allRefs(older).map(BlockRef::id).collectList().block(TIMEOUT));
            List<BlockRef> newerRefs = fx.manifests.allRefs(newer).collectList().block(TIMEOUT);
            BlockRef common = fx.manifests.allRefs(older).filter(r -> !newerRefs.stream()
                    .anyMatch(n -> n.id().equals(r.id()))).blockFirst(TIMEOUT);
            BlockId onlyNewer = newerRefs.stream().map(BlockRef::id).filter(id -> !inOlder.contains(id))
                    .reduce((a, b) -> b).orElseThrow();
            // The newer snapshot references its own block twice in a row, so the second reference
            // is checked while the first is still in flight, and the older one's block too.
            referenceTwice(newer, onlyNewer, common);

            PackBlockStore.Location at = packs.locate(common.id()).block(TIMEOUT);
            Damage.flipByte(at.pack(), at.dataOffset() + at.storedLength() / 2);
            store.delete(onlyNewer).block(TIMEOUT);

            SnapshotChecker checker = fx.checker(store);
            SnapshotChecker.Report full = checker.check(job, true);
            String json = full.toJson().encodePrettily();
            assertFalse(full.ok());
            assertEquals(1, full.missingBlocks(), json);
            assertEquals(1, full.corruptBlocks(), json);
            assertEquals(2, full.problems().stream().filter(p -> p.block().equals(onlyNewer.hex())
                    && p.snapshot().equals(newer) && p.kind().equals("missing")).count(), "both references: " + json);
            assertEquals(2, full.problems().stream().filter(p -> p.block().equals(common.id().hex())
                    && p.kind().equals("corrupt")).count(), json);
            Map<String, SnapshotChecker.DamagedBlock> byBlock = new java.util.HashMap<>();
            full.damagedBlocks().forEach(b -> byBlock.put(b.block(), b));
            assertEquals(Set.of(older, newer), Set.copyOf(byBlock.get(common.id().hex()).snapshots()), json);
            assertEquals(List.of(newer), byBlock.get(onlyNewer.hex()).snapshots(), json);
            assertEquals(2, full.damagedSnapshots().size(), json);
            SnapshotChecker.DamagedSnapshot first = full.damagedSnapshots().get(0);
            SnapshotChecker.DamagedSnapshot second = full.damagedSnapshots().get(1);
            assertEquals(older, first.snapshot());
            assertEquals(second.pitFrom(), first.pitUntil(), "the older one bases restores until the newer one");
            assertEquals(1, first.corruptBlocks());
            assertEquals(0, first.missingBlocks());
            assertEquals(1, second.corruptBlocks());
            assertEquals(1, second.missingBlocks());
            assertNull(second.pitUntil());

            // The read found the corrupt block, and the store holds it as corrupt: a quick check,
            // which only looks blocks up, still tells it from a missing one.
            SnapshotChecker.Report quick = checker.check(job, false);
            assertEquals(1, quick.missingBlocks(), quick.toJson().encodePrettily());
            assertEquals(1, quick.corruptBlocks(), quick.toJson().encodePrettily());
        } finally {
            packs.close();
        }
    }

    /** Rewrites the snapshot's manifest with {@code id}'s reference doubled where it stands, and {@code also} after it. */
    private static void referenceTwice(String snapshot, BlockId id, BlockRef also) {
        Manifest m = fx.manifests.read(snapshot).block(TIMEOUT);
        List<List<BlockRef>> refs = new ArrayList<>();
        for (Manifest.Namespace ns : m.namespaces()) {
            refs.add(fx.manifests.refs(snapshot, ns.index()).collectList().block(TIMEOUT));
        }
        fx.manifests.delete(snapshot).block(TIMEOUT);
        List<Manifest.Namespace> rewritten = new ArrayList<>();
        for (Manifest.Namespace ns : m.namespaces()) {
            List<BlockRef> list = new ArrayList<>();
            for (BlockRef r : refs.get(ns.index())) {
                list.add(r);
                if (r.id().equals(id)) {
                    list.add(r);
                    list.add(also);
                }
            }
            fx.manifests.writeRefs(snapshot, ns.index(), Flux.fromIterable(list)).block(TIMEOUT);
            rewritten.add(new Manifest.Namespace(ns.index(), ns.db(), ns.collection(), ns.type(), ns.uuid(), ns.options(),
                    ns.indexes(), ns.documents(), ns.logicalBytes(), ns.storedBytes(), list.size(), ns.pages()));
        }
        fx.manifests.writeHeader(new Manifest(m.snapshotId(), m.job(), m.ts(), m.createdAt(), rewritten)).block(TIMEOUT);
    }
}
