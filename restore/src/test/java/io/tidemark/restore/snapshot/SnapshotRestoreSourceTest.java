package io.tidemark.restore.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.CorruptBlockException;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.bson.Zstd;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.store.EmbeddedMongo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** A snapshot's manifest and blocks read back as a restore source, verified block by block. */
class SnapshotRestoreSourceTest {

    @TempDir
    Path dir;

    private EmbeddedMongo mongo;
    private MongoClient client;
    private ManifestStore manifests;
    private FilesystemBlockStore store;
    private final List<BlockId> written = new ArrayList<>();
    private byte[] stream;

    @BeforeEach
    void snapshot() {
        mongo = EmbeddedMongo.inMemoryWithOplog();
        client = MongoClients.create(mongo.uri());
        manifests = new ManifestStore(client.getDatabase("bs"));
        store = new FilesystemBlockStore(dir.resolve("blocks"), Schedulers.boundedElastic());
        // 300 KB of arbitrary bytes cut into blocks of uneven sizes: the source does not care
        // where documents end
        stream = new byte[300_000];
        new SplittableRandom(3).nextBytes(stream);
        List<BlockRef> refs = new ArrayList<>();
        int[] cuts = {0, 70_001, 70_002, 190_000, 300_000};
        for (int i = 0; i + 1 < cuts.length; i++) {
            byte[] chunk = Arrays.copyOfRange(stream, cuts[i], cuts[i + 1]);
            BlockId id = BlockId.of(chunk);
            byte[] compressed = Zstd.compress(chunk);
            store.putIfAbsent(id, compressed, chunk.length).block(Duration.ofSeconds(10));
            refs.add(new BlockRef(id, chunk.length, compressed.length, true));
            written.add(id);
        }
        int pages = manifests.writeRefs("s1", 0, Flux.fromIterable(refs)).block(Duration.ofSeconds(10));
        Manifest.Namespace ns = new Manifest.Namespace(0, "shop", "users", "collection", UUID.randomUUID(),
                new BsonDocument(), List.of(), 100, stream.length, 0, refs.size(), pages);
        Manifest.Namespace view = new Manifest.Namespace(1, "shop", "v", "view", null,
                BsonDocument.parse("{viewOn: 'users', pipeline: []}"), List.of(), 0, 0, 0, 0, 0);
        manifests.writeHeader(new Manifest("s1", "job-1", new OpTime(1_700_000_000L, 7), Instant.now(), List.of(ns, view)))
                .block(Duration.ofSeconds(10));
    }

    @AfterEach
    void close() {
        client.close();
        mongo.close();
    }

    private SnapshotRestoreSource open() {
        return SnapshotRestoreSource.open(manifests, new BlockReader(store, 2), "s1").block(Duration.ofSeconds(10));
    }

    private static byte[] concat(Flux<ByteBuffer> buffers) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        buffers.doOnNext(b -> {
            byte[] copy = new byte[b.remaining()];
            b.get(copy);
            out.writeBytes(copy);
        }).blockLast(Duration.ofSeconds(10));
        return out.toByteArray();
    }

    @Test
    void readsTheNamespacesBytesInOrderWithTheManifestsMetadata() {
        SnapshotRestoreSource source = open();
        assertEquals(new OpTime(1_700_000_000L, 7), source.ts());
        assertEquals(stream.length, source.logicalBytes());
        assertEquals(List.of("shop.users", "shop.v"), source.namespaces().stream().map(Manifest.Namespace::ns).toList());
        assertArrayEquals(stream, concat(source.documents(source.namespaces().get(0))));
        assertEquals(0, concat(source.documents(source.namespaces().get(1))).length);
    }

    @Test
    void aCorruptBlockFailsTheStreamNamingTheBlock() throws Exception {
        BlockId victim = written.get(2);
        Path file = store.pathOf(victim);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(file, bytes);
        SnapshotRestoreSource source = open();
        CorruptBlockException e = assertThrows(CorruptBlockException.class,
                () -> concat(source.documents(source.namespaces().get(0))));
        assertEquals(victim, e.blockId());
        assertTrue(e.getMessage().contains(victim.hex()), e.getMessage());
    }

    @Test
    void aMissingManifestIsAClearError() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SnapshotRestoreSource.open(manifests, new BlockReader(store, 2), "nope").block(Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("snapshot nope has no manifest"), e.getMessage());
    }
}
