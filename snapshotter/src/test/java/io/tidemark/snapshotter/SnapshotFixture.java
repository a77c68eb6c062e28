package io.tidemark.snapshotter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.mongodb.reactivestreams.client.MongoCollection;
import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.blocks.MongoBlockStore;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import io.vertx.core.Future;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * One in-process MongoDB (metadata and blockstore DB), the stores over it, schedulers and
 * the block stores, shared by the snapshot tests of a class.
 */
final class SnapshotFixture implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(60);
    /** Small chunks so that heads of a few tens of MB have hundreds of blocks. */
    static final ChunkingParams CHUNKING = new ChunkingParams(16 << 10, 64 << 10, 256 << 10);
    static final BlockWriter.Options OPTIONS = BlockWriter.Options.defaults().withChunking(CHUNKING);

    final EmbeddedMongo mongo = EmbeddedMongo.inMemoryWithOplog();
    final Vertx vertx = VertxFactory.create();
    final Scheduler cpu = Schedulers.newParallel("test-snapshot-cpu", 2);
    final Scheduler io = Schedulers.newBoundedElastic(8, 1000, "test-snapshot-io");
    final TidemarkConfig config;
    final Stores stores;
    final ManifestStore manifests;
    final SnapshotCatalog catalog;
    private final Map<MongoBlockStore, MongoCollection<BsonDocument>> mongoBlocks = new ConcurrentHashMap<>();
    private final List<PackBlockStore> packedStores = new java.util.concurrent.CopyOnWriteArrayList<>();

    SnapshotFixture(Path dataDir) {
        config = ConfigLoader.load(null, Map.of(
                "TIDEMARK_DATADIR", dataDir.toString(),
                "TIDEMARK_MONGODB_METADATAURI", mongo.uri() + "/meta",
                "TIDEMARK_MONGODB_BLOCKSTOREURI", mongo.uri() + "/blockstore",
                "TIDEMARK_SNAPSHOTS_CHUNKMINBYTES", String.valueOf(CHUNKING.minSize()),
                "TIDEMARK_SNAPSHOTS_CHUNKAVGBYTES", String.valueOf(CHUNKING.avgSize()),
                "TIDEMARK_SNAPSHOTS_CHUNKMAXBYTES", String.valueOf(CHUNKING.maxSize())));
        stores = await(Stores.open(vertx, config));
        manifests = new ManifestStore(stores.blockstore().database());
        catalog = new SnapshotCatalog(stores.metadata());
    }

    /** A fresh block store of the given kind ("packed", "filesystem" or "mongodb"), empty. */
    BlockStore blockStore(String kind, Path dir) {
        if (kind.equals("packed")) {
            PackBlockStore store = new PackBlockStore(dir.resolve("packs-" + System.nanoTime()), io);
            packedStores.add(store);
            return store;
        }
        if (kind.equals("filesystem")) {
            return new FilesystemBlockStore(dir.resolve("blocks-" + System.nanoTime()), io);
        }
        MongoCollection<BsonDocument> blocks = stores.blockstore().database().getCollection(
                BlockStores.BLOCKS_COLLECTION + System.nanoTime(), BsonDocument.class);
        MongoBlockStore store = new MongoBlockStore(blocks, io);
        mongoBlocks.put(store, blocks);
        return store;
    }

    /** The collection behind a store made by {@link #blockStore}. */
    MongoCollection<BsonDocument> collectionOf(MongoBlockStore store) {
        return mongoBlocks.get(store);
    }

    SnapshotTaker taker(BlockStore store) {
        return new SnapshotTaker(store, manifests, catalog, cpu, io, OPTIONS);
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Restores every namespace from the manifest and compares it with the head, byte for byte. */
    void assertRestoresExactly(Manifest manifest, BlockStore store, Head head) {
        try (HeadView view = head.openView()) {
            assertEquals(view.namespaces().size(), manifest.namespaces().size());
            for (Manifest.Namespace n : manifest.namespaces()) {
                NamespaceEntry entry = view.catalog().byName(n.ns()).orElseThrow();
                ByteArrayOutputStream expected = new ByteArrayOutputStream();
                long docs = 0;
                try (HeadView.DocumentCursor c = view.documents(entry)) {
                    while (c.hasNext()) {
                        expected.writeBytes(c.nextBytes());
                        docs++;
                    }
                }
                ByteArrayOutputStream restored = new ByteArrayOutputStream();
                new BlockReader(store, 4).read(manifests.refs(manifest.snapshotId(), n.index()).map(BlockRef::id))
                        .doOnNext(restored::writeBytes)
                        .blockLast(TIMEOUT);
                assertEquals(docs, n.documents(), n.ns());
                assertEquals(expected.size(), n.logicalBytes(), n.ns());
                assertArrayEquals(expected.toByteArray(), restored.toByteArray(), n.ns());
                assertEquals(entry.type().wireName(), n.type());
                assertEquals(entry.uuid(), n.uuid());
                assertEquals(entry.options(), n.options());
                assertEquals(entry.indexes(), n.indexes());
            }
        }
    }

    @Override
    public void close() {
        packedStores.forEach(PackBlockStore::close);
        stores.close();
        await(vertx.close());
        cpu.dispose();
        io.dispose();
        mongo.close();
    }
}
