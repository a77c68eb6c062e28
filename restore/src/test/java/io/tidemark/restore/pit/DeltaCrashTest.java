package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static io.tidemark.restore.pit.PitFixture.doc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.HeadReader;
import io.tidemark.applier.HeadView;
import io.tidemark.restore.snapshot.SnapshotRestoreSource;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockInfo;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.snapshotter.DeltaPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A delta snapshot cut off at each of its steps (a block write, after the catalog flip but before
 * the head forgets its changes) leaves every visible snapshot restorable, and the head's change
 * tracking intact: the next delta still holds everything since its parent.
 */
class DeltaCrashTest {

    private static final long BASE = 1_700_200_000L;

    @TempDir
    Path dir;

    /** A block store whose writes fail once {@code failAfter} more have been made (negative: never). */
    private static final class FailingStore implements BlockStore {
        final BlockStore delegate;
        final AtomicInteger failAfter = new AtomicInteger(-1);

        FailingStore(BlockStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength) {
            if (failAfter.get() >= 0 && failAfter.getAndDecrement() == 0) {
                return Mono.error(new java.io.IOException("injected: the process died here"));
            }
            return delegate.putIfAbsent(id, compressed, uncompressedLength);
        }

        @Override
        public Mono<Boolean> exists(BlockId id) {
            return delegate.exists(id);
        }

        @Override
        public Mono<BlockInfo> stat(BlockId id) {
            return delegate.stat(id);
        }

        @Override
        public Mono<byte[]> read(BlockId id) {
            return delegate.read(id);
        }

        @Override
        public Flux<BlockInfo> list() {
            return delegate.list();
        }

        @Override
        public Mono<Void> delete(BlockId id) {
            return delegate.delete(id);
        }

        @Override
        public Mono<Long> storedBytes() {
            return delegate.storedBytes();
        }
    }

    /** The head, except that it never hears that a snapshot completed: a crash right after the catalog flip. */
    private record Forgetful(HeadReader head) implements HeadReader {
        @Override
        public OpTime appliedPosition() {
            return head.appliedPosition();
        }

        @Override
        public HeadView openView() {
            return head.openView();
        }
    }

    private static Map<String, byte[]> content(PitFixture.Job job) {
        return DeltaChainTest.content(job);
    }

    private static void assertRestores(PitFixture fx, BlockStore store, String id, Map<String, byte[]> expected) {
        try (SnapshotRestoreSource source = SnapshotRestoreSource.open(fx.manifests, new BlockReader(store, 2), id).block(TIMEOUT)) {
            DeltaChainTest.assertSame(expected, DeltaChainTest.content(source), id);
        }
    }

    private final java.util.Set<Integer> present = new java.util.HashSet<>();

    private void change(PitFixture.Job job, PitFixture.Entries e, UUID uuid, int round) {
        List<RawBsonDocument> batch = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            int id = (i * 37 + round * 11) % 400;
            org.bson.BsonDocument d = doc(id, "round " + round + " " + i + " " + "x".repeat(200 + i), round);
            if (!present.contains(id)) {
                present.add(id);
                batch.add(e.insert("db.c", uuid, d));
            } else if (i % 5 == 4) {
                present.remove(id);
                batch.add(e.delete("db.c", uuid, id));
            } else {
                batch.add(e.replace("db.c", uuid, d));
            }
        }
        for (int i = 0; i < 10; i++) {
            batch.add(e.insert("db.c", uuid, doc(1000 + round * 10 + i, "new in " + round, i)));
        }
        job.apply(batch);
    }

    @Test
    void aDeltaCutOffAtAnyStepLosesNothing() {
        try (PitFixture fx = new PitFixture(dir)) {
            FailingStore store = new FailingStore(fx.blocks);
            SnapshotTaker taker = new SnapshotTaker(store, fx.manifests, fx.catalog, fx.cpu, fx.io,
                    BlockWriter.Options.defaults().withChunking(new ChunkingParams(1024, 4096, 16384)),
                    new DeltaPolicy(true, 24, 10.0));
            PitFixture.Job job = fx.new Job("crash-a", new OpTime(BASE, 0));
            PitFixture.Entries e = new PitFixture.Entries(BASE + 1, 1000);
            UUID uuid = UUID.randomUUID();
            List<RawBsonDocument> load = PitFixture.list(e.create("db", "c", uuid));
            for (int i = 0; i < 400; i++) {
                load.add(e.insert("db.c", uuid, doc(i, "first " + i, i)));
                present.add(i);
            }
            job.apply(load);
            Map<String, Map<String, byte[]>> visible = new LinkedHashMap<>();
            SnapshotSummary full = taker.take(job.id, job.head).block(TIMEOUT);
            visible.put(full.snapshotId(), content(job));

            int round = 1;
            // Cut off at the first, second and third block write of a delta (it writes dozens).
            for (int failAt = 0; failAt < 3; failAt++, round++) {
                change(job, e, uuid, round);
                store.failAfter.set(failAt);
                assertThrows(RuntimeException.class, () -> taker.take(job.id, job.head).block(TIMEOUT));
                store.failAfter.set(-1);
                for (Map.Entry<String, Map<String, byte[]>> v : visible.entrySet()) {
                    assertRestores(fx, store, v.getKey(), v.getValue());
                }
            }
            // Cut off after the catalog flip, before the head forgot its changes.
            change(job, e, uuid, round++);
            SnapshotSummary unforgotten = taker.take(job.id, new Forgetful(job.head)).block(TIMEOUT);
            assertTrue(unforgotten.manifest().isDelta(), "the failed attempts changed nothing: " + unforgotten.manifest().chain());
            visible.put(unforgotten.snapshotId(), content(job));
            change(job, e, uuid, round);
            SnapshotSummary next = taker.take(job.id, job.head).block(TIMEOUT);
            assertTrue(next.manifest().isDelta());
            visible.put(next.snapshotId(), content(job));

            List<JsonObject> listed = PitFixture.await(fx.catalog.list(job.id, false));
            assertEquals(visible.keySet(), new java.util.HashSet<>(listed.stream().map(j -> j.getString("_id")).toList()));
            for (Map.Entry<String, Map<String, byte[]>> v : visible.entrySet()) {
                assertRestores(fx, store, v.getKey(), v.getValue());
            }
            job.close();
        }
    }
}
