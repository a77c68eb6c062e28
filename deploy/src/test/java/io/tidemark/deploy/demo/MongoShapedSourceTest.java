package io.tidemark.deploy.demo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.OplogApplier;
import io.tidemark.applier.VerifyHash;
import io.tidemark.shared.oplog.OpTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.types.Binary;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shaped source's oplog, applied strictly by Tidemark's head applier to an empty head, rebuilds
 * every collection byte for byte: the entries say exactly what the source did, in MongoDB's shapes.
 */
class MongoShapedSourceTest {

    private static final List<String> FIELD_ORDER = List.of("op", "ns", "ui", "o", "o2", "ts", "t", "v", "wall");

    @TempDir
    Path dir;

    @Test
    void aMixedWorkloadAppliedToAnEmptyHeadRebuildsTheSourceByteForByte() {
        try (MongoShapedSource source = new MongoShapedSource()) {
            edgeCases(source);
            randomWorkload(source, new Random(7), 600);
            DemoDataset data = new DemoDataset();
            data.load(source, 60, 20, 300, 60);
            DemoWorkload demo = new DemoWorkload(source, data, 60, 20);
            for (int i = 0; i < 300; i++) {
                demo.one().block();
            }

            List<RawBsonDocument> oplog = oplog(source);
            assertShapes(oplog);
            assertEquals(OpTime.of(oplog.get(oplog.size() - 1).getTimestamp("ts")), source.latestTs());
            try (Head head = Head.open(dir.resolve("head"))) {
                OplogApplier.Result applied = new OplogApplier(head).apply(oplog, OplogApplier.Mode.STEADY);
                assertEquals(oplog.size(), applied.applied());
                assertHeadEqualsSource(head, source);
            }
        }
    }

    @Test
    void updatesAreLoggedAsMongoDbDeltasInMongoDbOrder() {
        try (MongoShapedSource source = new MongoShapedSource()) {
            source.insert("t.c", new Document("a", 1).append("_id", 1).append("b", new Document("c", 1)).append("e", "x").append("f", true));
            assertTrue(source.update("t.c", 1, new Document("zz", 10).append("a", 2).append("e", "x").append("10", 1).append("9", 1),
                    List.of("f", "missing")));
            assertFalse(source.update("t.c", 1, Map.of("a", 2), List.of("missing")), "a no-op update is not logged");
            assertFalse(source.update("t.c", 2, Map.of("a", 2), List.of()), "no such document");
            assertTrue(source.update("t.c", 1, Map.of("a", 2.0), List.of()), "a type change is a change");

            List<RawBsonDocument> oplog = oplog(source);
            assertEquals(4, oplog.size());
            RawBsonDocument create = oplog.get(0);
            assertEquals("c", create.getString("op").getValue());
            assertEquals("t.$cmd", create.getString("ns").getValue());
            assertEquals(BsonDocument.parse("{create: 'c', idIndex: {v: 2, key: {_id: 1}, name: '_id_'}}"), create.getDocument("o"));
            assertEquals(BsonDocument.parse("{_id: 1}"), oplog.get(1).getDocument("o2"), "an insert's o2 is its _id");
            assertEquals("{\"_id\": 1, \"a\": 1, \"b\": {\"c\": 1}, \"e\": \"x\", \"f\": true}", oplog.get(1).getDocument("o").toJson(),
                    "_id first, as MongoDB stores it");
            RawBsonDocument update = oplog.get(2);
            assertEquals("{\"$v\": 2, \"diff\": {\"d\": {\"f\": false}, \"u\": {\"a\": 2}, \"i\": {\"9\": 1, \"10\": 1, \"zz\": 10}}}",
                    update.getDocument("o").toJson());
            assertEquals(BsonDocument.parse("{_id: 1}"), update.getDocument("o2"));
            assertEquals("{\"$v\": 2, \"diff\": {\"u\": {\"a\": 2.0}}}", oplog.get(3).getDocument("o").toJson());
            assertEquals("{\"_id\": 1, \"a\": 2.0, \"b\": {\"c\": 1}, \"e\": \"x\", \"9\": 1, \"10\": 1, \"zz\": 10}",
                    source.documents("t.c").get(0).toJson(), "changed fields stay in place, new ones are appended in update order");
        }
    }

    @Test
    void indexesAreBuiltInOneEntryWhenEmptyAndInTwoPhasesOtherwise() {
        try (MongoShapedSource source = new MongoShapedSource()) {
            source.createIndex("t.empty", new Document("a", 1), null);
            source.insert("t.full", new Document("_id", 1));
            source.createIndex("t.full", new Document("a", 1).append("b", -1), new Document("unique", true));
            List<String> commands = oplog(source).stream().filter(e -> e.getString("op").getValue().equals("c"))
                    .map(e -> e.getDocument("o").getFirstKey()).toList();
            assertEquals(List.of("create", "createIndexes", "create", "startIndexBuild", "commitIndexBuild"), commands);
            assertEquals("{\"v\": 2, \"key\": {\"a\": 1, \"b\": -1}, \"name\": \"a_1_b_-1\", \"unique\": true}",
                    source.indexes("t.full").get(1).toJson());
        }
    }

    /** The shapes that are easy to get wrong: every field type, _id types, renames, index DDL. */
    private static void edgeCases(MongoShapedSource source) {
        source.insertMany("shop.items", List.of(
                new Document("_id", new ObjectId()).append("int", 1).append("long", 2L).append("double", 1.5)
                        .append("decimal", new Decimal128(new BigDecimal("12.30"))).append("date", new Date(1_700_000_000_123L))
                        .append("bin", new Binary((byte) 0, new byte[]{1, 2, 3})).append("null", null)
                        .append("nested", new Document("x", List.of(1, "two", new Document("three", 3)))),
                new Document("_id", "string-id").append("v", 1),
                new Document("name", "no id given").append("tags", List.of("a", "b"))));
        source.createIndex("shop.items", new Document("name", 1), null);
        source.update("shop.items", "string-id", new Document("sub", new Document("k", 1)).append("arr", List.of(1, 2)), List.of());
        source.update("shop.items", "string-id", new Document("sub", new Document("k", 2)).append("arr", List.of(1, 2, 3)), List.of("v"));
        source.replace("shop.items", "string-id", new Document("replaced", true));
        source.replace("shop.items", "string-id", new Document("_id", "string-id").append("replaced", "again"));
        source.delete("shop.items", "string-id");

        source.createCollection("shop.options", new Document("validator", new Document("$jsonSchema", new Document("bsonType", "object")))
                .append("validationLevel", "moderate").append("validationAction", "warn"));
        source.insert("shop.options", new Document("_id", 1));
        source.createIndex("shop.options", new Document("x", 1), new Document("name", "by_x"));
        source.dropIndex("shop.options", "by_x");

        source.insert("shop.a", new Document("_id", 1).append("from", "a"));
        source.insert("shop.b", new Document("_id", 2).append("from", "b"));
        source.renameCollection("shop.a", "shop.renamed", false);
        source.renameCollection("shop.renamed", "shop.b", true);
        source.createIndex("shop.b", new Document("from", 1), null);
        source.renameCollection("shop.b", "archive.b", false);
        source.insert("archive.taken", new Document("_id", 3));
        source.insert("shop.c", new Document("_id", 4));
        source.renameCollection("shop.c", "archive.taken", true);
        source.insert("shop.gone", new Document("_id", 5));
        assertTrue(source.dropCollection("shop.gone"));
        assertFalse(source.dropCollection("shop.gone"));
    }

    /** Seeded random inserts, $set/$unset updates, replacements, deletes and collection DDL over a few collections. */
    private static void randomWorkload(MongoShapedSource source, Random r, int operations) {
        String[] fields = {"a", "b", "c", "sub", "list", "10", "9"};
        for (int op = 0; op < operations; op++) {
            String ns = "rand.c" + r.nextInt(3);
            int id = r.nextInt(40);
            int pick = r.nextInt(100);
            if (pick < 30) {
                if (source.find(ns, id).isEmpty()) {
                    source.insert(ns, new Document("_id", id).append("a", r.nextInt(5)));
                }
            } else if (pick < 70) {
                Document set = new Document();
                List<String> unset = new ArrayList<>();
                for (int f = 0; f < 1 + r.nextInt(3); f++) {
                    String field = fields[r.nextInt(fields.length)];
                    if (set.containsKey(field) || unset.contains(field)) {
                        continue;
                    }
                    if (r.nextInt(4) == 0) {
                        unset.add(field);
                    } else {
                        set.put(field, randomValue(r));
                    }
                }
                source.update(ns, id, set, unset);
            } else if (pick < 80) {
                source.replace(ns, id, new Document("b", randomValue(r)).append("a", randomValue(r)));
            } else if (pick < 95) {
                source.delete(ns, id);
            } else if (pick < 97) {
                source.dropCollection(ns);
            } else if (source.namespaces().contains(ns)) {
                String to = r.nextBoolean() ? "rand.c" + r.nextInt(3) : "other.c" + r.nextInt(2);
                if (!to.equals(ns)) {
                    source.renameCollection(ns, to, true);
                }
            }
        }
    }

    private static Object randomValue(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> r.nextInt(3);
            case 1 -> (double) r.nextInt(3);
            case 2 -> "s" + r.nextInt(3);
            case 3 -> new Document("k", r.nextInt(3)).append("j", List.of(r.nextInt(2)));
            case 4 -> List.of(r.nextInt(3), new Document("x", r.nextInt(2)));
            default -> null;
        };
    }

    private static List<RawBsonDocument> oplog(MongoShapedSource source) {
        try (MongoClient client = MongoClients.create(source.uri())) {
            return client.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class)
                    .find().sort(new BsonDocument("$natural", new BsonInt32(1))).into(new ArrayList<>());
        }
    }

    /** MongoDB's fields in MongoDB's order; ui only on create; no operators; strictly increasing timestamps. */
    private static void assertShapes(List<RawBsonDocument> oplog) {
        BsonTimestamp previous = new BsonTimestamp(0, 0);
        Set<String> ops = new TreeSet<>();
        for (RawBsonDocument e : oplog) {
            List<String> keys = new ArrayList<>(e.keySet());
            List<String> expected = FIELD_ORDER.stream().filter(keys::contains).toList();
            assertEquals(expected, keys, "field order of " + e.toJson());
            assertEquals(keys.size(), expected.size(), "unexpected fields in " + e.toJson());
            String op = e.getString("op").getValue();
            String command = op.equals("c") ? e.getDocument("o").getFirstKey() : op;
            ops.add(command);
            assertEquals(command.equals("create"), e.containsKey("ui"), "ui only on create: " + e.toJson());
            if (op.equals("u")) {
                Set<String> operators = e.getDocument("o").keySet().stream().filter(k -> k.startsWith("$")).collect(Collectors.toSet());
                assertTrue(operators.isEmpty() || operators.equals(Set.of("$v")), "no update operators: " + e.toJson());
            }
            BsonTimestamp ts = e.getTimestamp("ts");
            assertTrue(ts.compareTo(previous) > 0, "timestamps strictly increase: " + e.toJson());
            previous = ts;
        }
        assertEquals(new TreeSet<>(List.of("i", "u", "d", "create", "drop", "renameCollection", "createIndexes",
                "startIndexBuild", "commitIndexBuild", "dropIndexes")), ops, "the workload covers every shape");
    }

    /** The first source document the head holds differently, to say what went wrong. */
    private static String firstDifference(HeadView view, NamespaceEntry n, List<RawBsonDocument> documents) {
        for (RawBsonDocument d : documents) {
            String inHead = view.document(n.id(), d.get("_id")).map(RawBsonDocument::toJson).orElse("<missing>");
            if (!inHead.equals(d.toJson())) {
                return ": source has " + d.toJson() + ", head has " + inHead;
            }
        }
        return "";
    }

    private static void assertHeadEqualsSource(Head head, MongoShapedSource source) {
        try (HeadView view = head.openView()) {
            Set<String> inHead = view.namespaces().stream().map(NamespaceEntry::ns).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(source.namespaces(), inHead, "namespaces");
            for (String ns : source.namespaces()) {
                NamespaceEntry n = view.catalog().byName(ns).orElseThrow();
                List<RawBsonDocument> documents = source.documents(ns);
                assertEquals(documents.size(), view.documentCount(n.id()), "count of " + ns);
                assertEquals(VerifyHash.of(documents.iterator()), VerifyHash.of(view, n.id()), () -> "documents of " + ns + firstDifference(view, n, documents));
                assertEquals(source.indexes(ns).stream().map(BsonDocument::toJson).toList(),
                        n.indexes().stream().map(RawBsonDocument::toJson).toList(), "indexes of " + ns);
                assertNull(n.options().get("temp"), "a renamed temporary collection is permanent: " + ns);
            }
        }
    }
}
