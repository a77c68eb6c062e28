package io.tidemark.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.NamespaceType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDecimal128;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonMaxKey;
import org.bson.BsonMinKey;
import org.bson.BsonNull;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.MongoDBContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A head's document order is real MongoDB's {@code find().sort({_id: 1})} order, for random
 * {@code _id}s of every type (Testcontainers; skipped where Docker is absent).
 */
@Testcontainers(disabledWithoutDocker = true)
class IdOrderAgainstMongoTest {

    @Container
    static final MongoDBContainer MONGO = new MongoDBContainer("mongo:7.0");

    @TempDir
    Path dir;

    @Test
    void headOrderIsMongosIdOrder() {
        Random random = new Random(17);
        List<BsonDocument> docs = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            docs.add(new BsonDocument("_id", randomId(random, 0)).append("i", new BsonInt32(i)));
        }
        List<RawBsonDocument> sorted;
        try (MongoClient client = MongoClients.create(MONGO.getConnectionString())) {
            MongoCollection<BsonDocument> c = client.getDatabase("order").getCollection("ids", BsonDocument.class);
            try {
                Mono.from(c.insertMany(docs, new InsertManyOptions().ordered(false))).block(Duration.ofMinutes(1));
            } catch (MongoBulkWriteException duplicates) {
                // _ids MongoDB holds equal (1 and 1.0): only the first of each is kept.
            }
            sorted = Flux.from(client.getDatabase("order").getCollection("ids", RawBsonDocument.class).find()
                    .sort(Sorts.ascending("_id"))).collectList().block(Duration.ofMinutes(1));
        }
        assertTrue(sorted.size() > 1000, "kept " + sorted.size());
        List<BsonValue> inHead = new ArrayList<>();
        try (Head head = Head.open(dir.resolve("head"))) {
            NamespaceEntry ns = head.createNamespace("order", "ids", UUID.randomUUID(), NamespaceType.COLLECTION, null, List.of());
            List<RawBsonDocument> shuffled = new ArrayList<>(sorted);
            java.util.Collections.shuffle(shuffled, random);
            head.bulkLoad(ns.id(), shuffled.iterator());
            try (HeadView view = head.openView(); HeadView.DocumentCursor cursor = view.documents(ns)) {
                while (cursor.hasNext()) {
                    inHead.add(cursor.next().get("_id"));
                }
            }
        }
        assertEquals(sorted.stream().map(d -> d.get("_id")).toList(), inHead);
    }

    private static BsonValue randomId(Random r, int depth) {
        switch (r.nextInt(depth == 0 ? 14 : 12)) {
            case 0: return new BsonInt32(r.nextBoolean() ? r.nextInt(2000) - 1000 : r.nextInt());
            case 1: return new BsonInt64(r.nextBoolean() ? r.nextInt(2000) - 1000 : r.nextLong());
            case 2: return new BsonDouble(switch (r.nextInt(4)) {
                case 0 -> (r.nextInt(4000) - 2000) / 4.0;
                case 1 -> Double.longBitsToDouble(r.nextLong());
                case 2 -> List.of(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, 0x1p53, 0x1p63, -0x1p63)
                        .get(r.nextInt(7));
                default -> r.nextGaussian() * 1e12;
            });
            case 3: return new BsonDecimal128(Decimal128.parse(List.of("%d", "%d.5", "-%d.125", "%dE+20", "%dE-20", "%d.000")
                    .get(r.nextInt(6)).formatted(r.nextInt(3000))));
            case 4: return new BsonInt64(r.nextBoolean() ? (1L << 53) + r.nextInt(5) - 2 : Long.MAX_VALUE - r.nextInt(3));
            case 5, 6: {
                StringBuilder s = new StringBuilder();
                for (int i = r.nextInt(5); i > 0; i--) {
                    s.append("ab\0zé\u00ff0Z".charAt(r.nextInt(9)));
                }
                return new BsonString(s.toString());
            }
            case 7: {
                byte[] b = new byte[12];
                r.nextBytes(b);
                return new BsonObjectId(new ObjectId(b));
            }
            case 8: {
                byte[] b = new byte[r.nextInt(4)];
                r.nextBytes(b);
                return new BsonBinary((byte) List.of(0, 4, 0x80).get(r.nextInt(3)).intValue(), b);
            }
            case 9: return new BsonDateTime(r.nextBoolean() ? r.nextInt(2000) - 1000 : r.nextLong() >> 20);
            case 10: return List.of(BsonBoolean.TRUE, BsonBoolean.FALSE, new BsonNull(), new BsonMinKey(), new BsonMaxKey(),
                    new BsonTimestamp(r.nextInt(), r.nextInt())).get(r.nextInt(6));
            case 11: return new BsonTimestamp(r.nextInt(3), r.nextInt(3));
            default: {
                BsonDocument d = new BsonDocument();
                for (int i = r.nextInt(3); i > 0; i--) {
                    d.append(List.of("a", "b", "ab").get(r.nextInt(3)), randomId(r, depth + 1));
                }
                return d;
            }
        }
    }
}
