package io.tidemark.snapshotter;

import static io.tidemark.snapshotter.SnapshotFixture.TIMEOUT;
import static io.tidemark.snapshotter.SnapshotFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.Head;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockInfo;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.CorruptBlockException;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.blocks.MongoBlockStore;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.bench.SyntheticHead;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class SnapshotTakerTest {

    private static final long HEAD_BYTES = 24L << 20;

    @TempDir
    static Path shared;

    static SnapshotFixture fx;
    static Path headDir;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        fx = new SnapshotFixture(shared.resolve("data"));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static Head newHead(Path dir) {
        Head head = Head.open(dir.resolve("head"));
        SyntheticHead.load(head, new SyntheticDocuments(7), HEAD_BYTES);
        return head;
    }

    private static String job() {
        return "job-" + System.nanoTime();
    }

    @ParameterizedTest
    @ValueSource(strings = {"packed", "filesystem", "mongodb"})
    void aSecondSnapshotOfAnUnchangedHeadAddsNoBlocksAndBothRestoreExactly(String kind) {
        BlockStore store = fx.blockStore(kind, dir);
        SnapshotTaker taker = fx.taker(store);
        String job = job();
        try (Head head = newHead(dir)) {
            SnapshotSummary first = taker.take(job, head).block(TIMEOUT);
            long storedAfterFirst = store.storedBytes().block(TIMEOUT);
            assertEquals(storedAfterFirst, first.storedBytes());
            assertTrue(first.logicalBytes() > HEAD_BYTES * 9 / 10, "logical " + first.logicalBytes());
            assertTrue(first.storedBytes() < first.logicalBytes() / 2, "compressed " + first.storedBytes());
            assertEquals(OpTime.of(head.appliedTs()), first.ts());

            SnapshotSummary second = taker.take(job, head).block(TIMEOUT);
            assertEquals(0, second.blocksAdded());
            assertEquals(0, second.storedBytes());
            assertEquals(storedAfterFirst, store.storedBytes().block(TIMEOUT));
            assertEquals(1.0, second.dedupRatio());
            assertEquals(first.logicalBytes(), second.logicalBytes());
            assertEquals(first.documents(), second.documents());

            for (SnapshotSummary s : List.of(first, second)) {
                fx.assertRestoresExactly(fx.manifests.read(s.snapshotId()).block(TIMEOUT), store, head);
            }
            Manifest m = fx.manifests.read(second.snapshotId()).block(TIMEOUT);
            Manifest.Namespace view = m.namespaces().stream().filter(n -> n.type().equals("view")).findFirst().orElseThrow();
            assertEquals(0, view.documents());
            assertEquals(0, view.blocks());
            assertEquals("orders", view.options().getString("viewOn").getValue());

            List<JsonObject> listed = await(fx.catalog.list(job, false));
            assertEquals(List.of(second.snapshotId(), first.snapshotId()), listed.stream().map(e -> e.getString("_id")).toList());
            JsonObject latest = SnapshotFixture.await(fx.catalog.find(second.snapshotId()));
            assertTrue(latest.getBoolean("complete"));
            assertEquals(0L, latest.getLong("storedBytes"));
            assertEquals(first.snapshotId(), latest.getString("base"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"packed", "filesystem", "mongodb"})
    void afterAppendingOnePercentTheNextSnapshotStoresAtMostThreePercent(String kind) {
        BlockStore store = fx.blockStore(kind, dir);
        SnapshotTaker taker = fx.taker(store);
        String job = job();
        try (Head head = newHead(dir)) {
            SnapshotSummary first = taker.take(job, head).block(TIMEOUT);
            SyntheticHead.change(head, new SyntheticDocuments(8), 0, HEAD_BYTES / 100, 10_000_000, 1);
            SnapshotSummary second = taker.take(job, head).block(TIMEOUT);

            double share = (double) second.storedBytes() / first.storedBytes();
            assertTrue(share <= 0.03, String.format("second snapshot stored %.2f%% of the first's bytes", 100 * share));
            assertTrue(second.storedBytes() > 0);
            assertTrue(second.ts().isAfter(first.ts()));
            assertTrue(second.documents() > first.documents());
            fx.assertRestoresExactly(fx.manifests.read(second.snapshotId()).block(TIMEOUT), store, head);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"packed", "filesystem", "mongodb"})
    void aCorruptedStoredBlockIsDetectedOnReadAndNamed(String kind) throws Exception {
        BlockStore store = fx.blockStore(kind, dir);
        String job = job();
        try (Head head = newHead(dir)) {
            SnapshotSummary s = fx.taker(store).take(job, head).block(TIMEOUT);
            List<BlockRef> refs = fx.manifests.refs(s.snapshotId(), 1).collectList().block(TIMEOUT);
            BlockId victim = refs.get(refs.size() / 2).id();
            corrupt(store, victim);

            CorruptBlockException e = assertThrows(CorruptBlockException.class, () -> new BlockReader(store, 4)
                    .read(refs.stream().map(BlockRef::id).toList()).blockLast(TIMEOUT));
            assertEquals(victim, e.blockId());
            assertTrue(e.getMessage().contains(victim.hex()), e.getMessage());
        }
    }

    @Test
    void aFullSnapshotWritesAgainABlockThePackStoreFoundCorruptAndEverySnapshotReadsAgain() throws Exception {
        BlockStore store = fx.blockStore("packed", dir);
        SnapshotTaker taker = fx.taker(store);
        String job = job();
        try (Head head = newHead(dir)) {
            SnapshotSummary first = taker.take(job, head).block(TIMEOUT);
            List<BlockRef> refs = fx.manifests.refs(first.snapshotId(), 1).collectList().block(TIMEOUT);
            BlockId victim = refs.get(refs.size() / 2).id();
            corrupt(store, victim);
            assertThrows(CorruptBlockException.class, () -> store.read(victim).block(TIMEOUT));

            // An ordinary snapshot of the unchanged head reuses the first one's references, damage included.
            SnapshotSummary second = taker.take(job, head).block(TIMEOUT);
            assertEquals(0, second.blocksAdded());
            assertTrue(fx.manifests.allRefs(second.snapshotId()).any(r -> r.id().equals(victim)).block(TIMEOUT));

            SnapshotSummary full = taker.take(job, head, SnapshotTaker.newSnapshotId(), true, () -> { }).block(TIMEOUT);
            assertEquals(1, full.blocksAdded(), "only the corrupt block is written again");
            for (SnapshotSummary s : List.of(first, second, full)) {
                fx.assertRestoresExactly(fx.manifests.read(s.snapshotId()).block(TIMEOUT), store, head);
            }
        }
    }

    private static void corrupt(BlockStore store, BlockId id) throws Exception {
        if (store instanceof PackBlockStore packed) {
            PackBlockStore.Location at = packed.locate(id).block(TIMEOUT);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(at.pack(),
                    java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE)) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
                long middle = at.dataOffset() + at.storedLength() / 2;
                ch.read(b, middle);
                ch.write(b.put(0, (byte) (b.get(0) ^ 0x20)).rewind(), middle);
            }
            return;
        }
        if (store instanceof FilesystemBlockStore fs) {
            Path file = fs.pathOf(id);
            byte[] bytes = Files.readAllBytes(file);
            bytes[bytes.length / 2] ^= 0x20;
            Files.write(file, bytes);
            return;
        }
        var coll = fx.collectionOf((MongoBlockStore) store);
        BsonDocument doc = Mono.from(coll.find(new BsonDocument("_id", new BsonString(id.hex()))).first()).block(TIMEOUT);
        byte[] data = doc.getBinary(MongoBlockStore.DATA).getData();
        data[data.length / 2] ^= 0x20;
        doc.put(MongoBlockStore.DATA, new BsonBinary(data));
        Mono.from(coll.replaceOne(new BsonDocument("_id", doc.get("_id")), doc)).block(TIMEOUT);
    }

    @ParameterizedTest
    @ValueSource(strings = {"packed", "filesystem", "mongodb"})
    void aSnapshotThatFailsMidwayIsInvisibleAndTheRetryCompletes(String kind) {
        BlockStore real = fx.blockStore(kind, dir);
        String job = job();
        try (Head head = newHead(dir)) {
            FailingBlockStore failing = new FailingBlockStore(real, 20);
            assertThrows(RuntimeException.class, () -> fx.taker(failing).take(job, head).block(TIMEOUT));
            assertTrue(failing.puts.get() >= 20, "failed midway, after " + failing.puts.get() + " writes");

            assertTrue(await(fx.catalog.list(job, false)).isEmpty(), "nothing visible");
            assertNull(await(fx.catalog.latestComplete(job)));
            List<JsonObject> all = await(fx.catalog.list(job, true));
            assertEquals(1, all.size());
            assertFalse(all.get(0).getBoolean("complete"));
            assertTrue(all.get(0).getBoolean("failed"));
            assertNull(fx.manifests.read(all.get(0).getString("_id")).block(TIMEOUT), "no manifest header");

            SnapshotSummary retry = fx.taker(real).take(job, head).block(TIMEOUT);
            assertEquals(List.of(retry.snapshotId()),
                    await(fx.catalog.list(job, false)).stream().map(e -> e.getString("_id")).toList());
            fx.assertRestoresExactly(fx.manifests.read(retry.snapshotId()).block(TIMEOUT), real, head);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"packed", "filesystem", "mongodb"})
    void aSnapshotCutOffByACrashIsInvisibleAndTheRetryCompletes(String kind) throws Exception {
        BlockStore real = fx.blockStore(kind, dir);
        String job = job();
        try (Head head = newHead(dir)) {
            // The process "dies" after some blocks are durable: the subscription is dropped with
            // no failure handling at all, as when the JVM is killed.
            FailingBlockStore watched = new FailingBlockStore(real, Integer.MAX_VALUE);
            Disposable crashed = fx.taker(watched).take(job, head).subscribe(s -> { }, e -> { });
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (watched.puts.get() < 20 && System.nanoTime() < deadline) {
                Thread.sleep(2);
            }
            crashed.dispose();
            assertTrue(watched.puts.get() >= 20);

            assertTrue(await(fx.catalog.list(job, false)).isEmpty(), "nothing visible");
            List<JsonObject> all = await(fx.catalog.list(job, true));
            assertEquals(1, all.size());
            assertFalse(all.get(0).getBoolean("complete"));

            SnapshotSummary retry = fx.taker(real).take(job, head).block(TIMEOUT);
            assertTrue(retry.blocksAdded() < retry.blocks(), "blocks written before the crash are reused");
            assertEquals(1, await(fx.catalog.list(job, false)).size());
            fx.assertRestoresExactly(fx.manifests.read(retry.snapshotId()).block(TIMEOUT), real, head);
        }
    }

    /** A store that fails every write after the first {@code okWrites}, as a full disk would. */
    static final class FailingBlockStore implements BlockStore {
        final BlockStore delegate;
        final int okWrites;
        final AtomicInteger puts = new AtomicInteger();

        FailingBlockStore(BlockStore delegate, int okWrites) {
            this.delegate = delegate;
            this.okWrites = okWrites;
        }

        @Override
        public Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength) {
            return Mono.defer(() -> puts.incrementAndGet() > okWrites
                    ? Mono.error(new java.io.UncheckedIOException(new java.io.IOException("No space left on device")))
                    : delegate.putIfAbsent(id, compressed, uncompressedLength));
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

    @Test
    void namespacesUnchangedSinceTheLastSnapshotAreReusedWithoutBeingRead() {
        BlockStore store = fx.blockStore("filesystem", dir);
        SnapshotTaker taker = fx.taker(store);
        String job = job();
        try (Head head = newHead(dir)) {
            SnapshotSummary first = taker.take(job, head).block(TIMEOUT);
            io.tidemark.applier.NamespaceEntry changed = head.catalog().namespaces().iterator().next();
            head.bulkLoad(changed.id(), java.util.List.of(new org.bson.RawBsonDocument(
                    new org.bson.BsonDocument("_id", new org.bson.BsonString("added-after-the-first-snapshot")),
                    new org.bson.codecs.BsonDocumentCodec())).iterator());
            SnapshotSummary second = taker.take(job, head).block(TIMEOUT);

            Manifest before = fx.manifests.read(first.snapshotId()).block(TIMEOUT);
            Manifest after = fx.manifests.read(second.snapshotId()).block(TIMEOUT);
            for (Manifest.Namespace ns : after.namespaces()) {
                Manifest.Namespace old = before.namespaces().stream().filter(o -> o.ns().equals(ns.ns())).findFirst().orElseThrow();
                if (ns.ns().equals(changed.ns())) {
                    assertEquals(old.documents() + 1, ns.documents(), "the changed namespace was read again");
                } else {
                    assertEquals(0, ns.storedBytes(), ns.ns() + " reused");
                    assertEquals(fx.manifests.refs(first.snapshotId(), old.index()).collectList().block(TIMEOUT),
                            fx.manifests.refs(second.snapshotId(), ns.index()).collectList().block(TIMEOUT),
                            ns.ns() + " has the base's references");
                }
            }
            fx.assertRestoresExactly(after, store, head);
        }
    }
}
