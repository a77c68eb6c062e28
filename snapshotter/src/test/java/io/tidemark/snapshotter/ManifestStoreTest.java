package io.tidemark.snapshotter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.snapshotter.blocks.KnownBlocks;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

class ManifestStoreTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static List<BlockRef> refs(int n, int salt) {
        return IntStream.range(0, n).mapToObj(i -> new BlockRef(
                BlockId.of(ByteBuffer.allocate(8).putInt(salt).putInt(i).array()), 1000 + i, 300 + i, false)).toList();
    }

    @Test
    void referencesArePagedAndReadBackInOrderPerNamespace() {
        try (EmbeddedMongo mongo = EmbeddedMongo.inMemoryWithOplog(); MongoClient client = MongoClients.create(mongo.uri())) {
            ManifestStore store = new ManifestStore(client.getDatabase("blockstore"));
            int many = 2 * ManifestStore.PAGE_REFS + 1;
            List<BlockRef> first = refs(many, 1);
            List<BlockRef> second = refs(7, 2);
            assertEquals(3, store.writeRefs("s1", 0, Flux.fromIterable(first)).block(TIMEOUT));
            assertEquals(0, store.writeRefs("s1", 1, Flux.empty()).block(TIMEOUT));
            assertEquals(1, store.writeRefs("s1", 2, Flux.fromIterable(second)).block(TIMEOUT));
            // another snapshot whose id extends this one's must not leak into its ranges
            store.writeRefs("s10", 0, Flux.fromIterable(refs(3, 3))).block(TIMEOUT);

            assertEquals(first, store.refs("s1", 0).collectList().block(TIMEOUT));
            assertEquals(List.of(), store.refs("s1", 1).collectList().block(TIMEOUT));
            assertEquals(second, store.refs("s1", 2).collectList().block(TIMEOUT));
            assertEquals(many + 7, store.allRefs("s1").count().block(TIMEOUT));

            Manifest m = new Manifest("s1", "job", new OpTime(1_700_000_000L, 5), Instant.ofEpochMilli(1_700_000_000_123L),
                    List.of(new Manifest.Namespace(0, "shop", "orders", "collection", UUID.randomUUID(),
                            new BsonDocument("validator", new BsonDocument()),
                            List.of(new BsonDocument("v", new BsonInt32(2)).append("name", new BsonString("_id_"))),
                            123, 456, 789, many, 3)));
            store.writeHeader(m).block(TIMEOUT);
            assertEquals(m, store.read("s1").block(TIMEOUT));

            KnownBlocks known = store.allRefs("s1").reduce(KnownBlocks.builder(10), KnownBlocks.Builder::add)
                    .block(TIMEOUT).build();
            assertEquals(many + 7, known.size());
            assertEquals(300 + 5, known.storedLength(first.get(5).id()));
            assertEquals(-1, known.storedLength(BlockId.of(new byte[] {9})));

            store.delete("s1").block(TIMEOUT);
            assertNull(store.read("s1").block(TIMEOUT));
            assertEquals(0, store.allRefs("s1").count().block(TIMEOUT));
            assertEquals(3, store.allRefs("s10").count().block(TIMEOUT));
            assertTrue(store.refs("s10", 0).count().block(TIMEOUT) == 3);
        }
    }
}
