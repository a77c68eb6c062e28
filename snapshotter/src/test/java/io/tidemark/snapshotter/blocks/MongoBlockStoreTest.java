package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.CorruptBlockException;
import io.tidemark.shared.blocks.MongoBlockStore;
import static com.mongodb.client.model.Filters.eq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.net.InetSocketAddress;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class MongoBlockStoreTest extends BlockStoreContract {

    static MongoServer server;
    static MongoClient client;

    private MongoCollection<BsonDocument> blocks;
    private MongoBlockStore store;

    @BeforeAll
    static void startServer() {
        server = new MongoServer(new MemoryBackend());
        InetSocketAddress addr = server.bind();
        client = MongoClients.create("mongodb://" + addr.getHostString() + ":" + addr.getPort());
    }

    @AfterAll
    static void stopServer() {
        client.close();
        server.shutdownNow();
    }

    @BeforeEach
    void open() {
        blocks = client.getDatabase("blockstore").getCollection("blocks", BsonDocument.class);
        await(Mono.from(blocks.drop()));
        store = new MongoBlockStore(blocks, cpu);
    }

    @Override
    protected BlockStore store() {
        return store;
    }

    @Override
    protected void corrupt(BlockId id) {
        BsonDocument doc = await(Mono.from(blocks.find(eq("_id", id.hex())).first()));
        byte[] data = doc.getBinary(MongoBlockStore.DATA).getData();
        data[data.length / 2] ^= 0x5a;
        doc.put(MongoBlockStore.DATA, new BsonBinary(data));
        await(Mono.from(blocks.replaceOne(eq("_id", id.hex()), doc)));
    }

    @Test
    void documentsHaveTheDocumentedShape() {
        Block b = block("shape ");
        await(store.putIfAbsent(b.id(), b.compressed(), b.data().length));
        BsonDocument doc = await(Mono.from(blocks.find().first()));
        assertEquals(b.id().hex(), doc.getString("_id").getValue());
        assertEquals(b.compressed().length, doc.getInt32(MongoBlockStore.SIZE).getValue());
        assertEquals(b.data().length, doc.getInt32(MongoBlockStore.UNCOMPRESSED_SIZE).getValue());
        assertTrue(doc.isDateTime(MongoBlockStore.CREATED_AT));
    }

    @Test
    void aDocumentWithoutDataIsReportedCorrupt() {
        Block b = block("stripped ");
        await(store.putIfAbsent(b.id(), b.compressed(), b.data().length));
        await(Mono.from(blocks.updateOne(eq("_id", b.id().hex()),
                new BsonDocument("$unset", new BsonDocument(MongoBlockStore.DATA, new BsonBinary(new byte[0]))))));
        CorruptBlockException e = org.junit.jupiter.api.Assertions.assertThrows(CorruptBlockException.class,
                () -> await(store.read(b.id())));
        assertTrue(e.getMessage().contains(b.id().hex()));
    }
}
