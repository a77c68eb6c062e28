package io.tidemark.applier;

import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.CompressedPayload;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.store.SyncStore;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A head built from the sync store reads every document the sync stored, or is not built. */
class HeadBuilderTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final OpTime START = new OpTime(100, 1);

    @TempDir
    Path tmp;

    private EmbeddedMongo mongo;
    private Vertx vertx;
    private Stores stores;
    private SyncStore sync;

    @BeforeEach
    void open() throws Exception {
        mongo = EmbeddedMongo.inMemoryWithOplog();
        vertx = VertxFactory.create();
        stores = Stores.open(vertx, ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", tmp.resolve("data").toString(),
                "TIDEMARK_MONGODB_METADATAURI", mongo.uri() + "/meta", "TIDEMARK_MONGODB_BLOCKSTOREURI", mongo.uri() + "/bs")))
                .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        sync = stores.sync();
        BsonDocument info = new BsonDocument("name", new BsonString("orders")).append("type", new BsonString("collection"))
                .append("options", new BsonDocument());
        BsonArray indexes = new BsonArray();
        indexes.add(new BsonDocument("v", new BsonInt32(2)).append("key", new BsonDocument("_id", new BsonInt32(1)))
                .append("name", new BsonString("_id_")));
        sync.putCollection("j", 1, "shop.orders", info, indexes).block(WAIT);
        for (int seq = 0; seq < 3; seq++) {
            ByteArrayOutputStream slice = new ByteArrayOutputStream();
            for (int i = 0; i < 10; i++) {
                org.bson.ByteBuf buf = new RawBsonDocument(new BsonDocument("_id", new BsonInt64(seq * 10L + i)),
                        new BsonDocumentCodec()).getByteBuffer();
                byte[] bytes = new byte[buf.remaining()];
                buf.get(bytes);
                slice.writeBytes(bytes);
            }
            sync.putSlice("j", 1, "shop.orders", seq, 10, CompressedPayload.of(slice.toByteArray())).block(WAIT);
        }
    }

    @AfterEach
    void close() {
        stores.close();
        vertx.close();
        mongo.close();
    }

    @Test
    void aBuildReadsEveryStoredDocument() {
        try (Head head = Head.open(tmp.resolve("head"))) {
            assertEquals(30, new HeadBuilder(sync, "j", 1).build(head, START, 30));
            assertEquals(30, head.documentCount("shop.orders"));
        }
    }

    @Test
    void aBuildThatReadsFewerDocumentsThanTheSyncStoredFails() {
        try (Head head = Head.open(tmp.resolve("head"))) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> new HeadBuilder(sync, "j", 1).build(head, START, 31));
            assertTrue(e.getMessage().contains("gave 30 of the 31 documents"), e.getMessage());
        }
    }
}
