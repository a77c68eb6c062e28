package io.tidemark.restore.history;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.bson.Zstd;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.BlockStart;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.store.EmbeddedMongo;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * A lookup by key in one namespace stored whole, its blocks cut anywhere (documents straddle
 * blocks, some blocks hold no record start): with the key index
 * it reads at most two blocks and finds exactly the document, or nothing; a manifest written before
 * the index (no {@code starts}, no key encoding) gives the same answers by reading the namespace.
 */
class DocumentLocatorTest {

    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void findsByKeyThroughTheIndexAndWithoutIt() {
        try (EmbeddedMongo mongo = EmbeddedMongo.inMemoryWithOplog(); MongoClient client = MongoClients.create(mongo.uri())) {
            ManifestStore manifests = new ManifestStore(client.getDatabase("bs"));
            FilesystemBlockStore store = new FilesystemBlockStore(dir.resolve("blocks"), Schedulers.boundedElastic());
            Random random = new Random(9);
            // Even ids only, so odd ones are absent between present ones.
            List<byte[]> docs = new ArrayList<>();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            List<Integer> starts = new ArrayList<>();
            for (int id = 0; id < 6000; id += 2) {
                byte[] d = raw(new BsonDocument("_id", new BsonInt32(id)).append("s", new BsonString("x".repeat(random.nextInt(900)))));
                starts.add(all.size());
                docs.add(d);
                all.writeBytes(d);
            }
            byte[] stream = all.toByteArray();
            // Blocks of 100 B to 3 KB: many straddle documents, many hold no record start.
            List<BlockStart.Indexed> refs = new ArrayList<>();
            int next = 0;
            int doc = 0;
            for (int at = 0; at < stream.length; ) {
                int len = Math.min(stream.length - at, 100 + random.nextInt(2900));
                byte[] chunk = Arrays.copyOfRange(stream, at, at + len);
                BlockId id = BlockId.of(chunk);
                byte[] compressed = Zstd.compress(chunk);
                store.putIfAbsent(id, compressed, len).block(T);
                while (doc < starts.size() && starts.get(doc) < at) {
                    doc++;
                }
                BlockStart start = doc < starts.size() && starts.get(doc) < at + len
                        ? new BlockStart(starts.get(doc) - at, HeadKeys.ofDocument(docs.get(doc), 0)) : null;
                refs.add(new BlockStart.Indexed(new BlockRef(id, len, compressed.length, true), start));
                at += len;
                next++;
            }
            assertTrue(next > 500, "blocks: " + next);
            List<BlockRef> plain = refs.stream().map(BlockStart.Indexed::ref).toList();
            int oldPages = manifests.writeRefs("old", 0, Flux.fromIterable(plain)).block(T);
            int newPages = manifests.writeIndexedRefs("new", 0, Flux.fromIterable(refs)).block(T);
            Manifest.Namespace ns = new Manifest.Namespace(0, "db", "c", "collection", UUID.randomUUID(), new BsonDocument(),
                    List.of(), docs.size(), stream.length, 0, refs.size(), oldPages);
            Manifest old = new Manifest("old", "j", new OpTime(1, 1), Instant.now(), List.of(ns));
            Manifest indexed = new Manifest("new", "j", new OpTime(1, 1), Instant.now(), List.of(ns),
                    Manifest.Chain.full(stream.length, HeadKeys.encoding()));
            assertEquals(oldPages, newPages);

            for (int i = 0; i < 60; i++) {
                int id = i < 4 ? new int[] {0, 5998, -2, 6000}[i] : random.nextInt(6100) - 50;
                byte[] key = io.tidemark.applier.DocumentUpdates.keyOf(new BsonInt32(id));
                byte[] want = id >= 0 && id < 6000 && id % 2 == 0 ? docs.get(id / 2) : null;
                DocumentLocator fresh = new DocumentLocator(manifests, store);
                byte[] got = fresh.find(indexed, ns, key).block(T);
                if (want == null) {
                    assertNull(got, "id " + id);
                } else {
                    assertArrayEquals(want, got, "id " + id);
                }
                assertTrue(fresh.blocksRead() <= 3, "id " + id + " read " + fresh.blocksRead() + " blocks");
                if (i % 6 != 0) {
                    continue; // reading the whole namespace: a few suffice
                }
                DocumentLocator scanning = new DocumentLocator(manifests, store);
                byte[] viaScan = scanning.find(old, ns, key).block(T);
                if (want == null) {
                    assertNull(viaScan, "id " + id + " without the index");
                } else {
                    assertArrayEquals(want, viaScan, "id " + id + " without the index");
                }
            }
        }
    }

    private static byte[] raw(BsonDocument d) {
        RawBsonDocument r = new RawBsonDocument(d, new BsonDocumentCodec());
        return Arrays.copyOfRange(r.getByteBuffer().array(), 0, r.getByteBuffer().remaining());
    }
}
