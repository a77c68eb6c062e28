package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.oplog.OpTime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * One fixture group: a head's {@code before} state, oplog {@code batches} and the expected
 * {@code after} state (documents compared byte for byte, catalog compared exactly).
 */
final class Fixture {
    private static final JsonWriterSettings JSON = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();

    final String name;
    final BsonDocument group;
    final OplogApplier.Mode mode;
    final List<List<RawBsonDocument>> batches = new ArrayList<>();
    final boolean reopenBetweenBatches;

    Fixture(String name, BsonDocument group) {
        this.name = name;
        this.group = group;
        this.mode = OplogApplier.Mode.valueOf(group.getString("mode", new org.bson.BsonString("STEADY")).getValue());
        if (group.containsKey("entries")) {
            batches.add(raw(group.getArray("entries")));
        }
        if (group.containsKey("batches")) {
            for (BsonValue b : group.getArray("batches")) {
                batches.add(raw(b.asArray()));
            }
        }
        reopenBetweenBatches = group.getBoolean("reopenBetweenBatches", org.bson.BsonBoolean.FALSE).getValue();
    }

    private static List<RawBsonDocument> raw(BsonArray a) {
        List<RawBsonDocument> out = new ArrayList<>();
        for (BsonValue v : a) {
            out.add(new RawBsonDocument(v.asDocument(), new BsonDocumentCodec()));
        }
        return out;
    }

    List<RawBsonDocument> allEntries() {
        List<RawBsonDocument> all = new ArrayList<>();
        batches.forEach(all::addAll);
        return all;
    }

    BsonDocument expectError() {
        return group.containsKey("expectError") ? group.getDocument("expectError") : null;
    }

    /** Creates the {@code before} state in a fresh head. */
    Head createBefore(Path dir) {
        Head head = Head.open(dir);
        BsonDocument before = group.getDocument("before");
        if (before.containsKey("position")) {
            head.initializePosition(OpTime.of(before.getTimestamp("position")));
        }
        for (BsonValue v : before.getArray("namespaces", new BsonArray())) {
            BsonDocument ns = v.asDocument();
            List<RawBsonDocument> indexes = new ArrayList<>();
            for (BsonValue i : ns.getArray("indexes", new BsonArray())) {
                indexes.add(raw(i.asDocument()));
            }
            UUID uuid = ns.containsKey("uuid") ? ns.getBinary("uuid").asUuid(UuidRepresentation.STANDARD) : null;
            NamespaceEntry entry = head.createNamespace(ns.getString("db").getValue(), ns.getString("coll").getValue(), uuid,
                    NamespaceType.fromWireName(ns.getString("type", new org.bson.BsonString("collection")).getValue()),
                    raw(ns.getDocument("options", new BsonDocument())), indexes);
            List<RawBsonDocument> docs = new ArrayList<>();
            for (BsonValue d : ns.getArray("documents", new BsonArray())) {
                docs.add(raw(d.asDocument()));
            }
            head.bulkLoad(entry.id(), docs.iterator());
        }
        return head;
    }

    static RawBsonDocument raw(BsonDocument d) {
        return new RawBsonDocument(d, new BsonDocumentCodec());
    }

    static byte[] bytes(RawBsonDocument d) {
        var bb = d.getByteBuffer();
        return Arrays.copyOfRange(bb.array(), bb.position(), bb.limit());
    }

    static String json(byte[] doc) {
        return new RawBsonDocument(doc).toJson(JSON);
    }

    /** Asserts the head matches {@code state} (an "after" or "before" document). */
    void assertState(Head head, BsonDocument state, String when) {
        try (HeadView view = head.openView()) {
            Map<String, NamespaceEntry> actual = new TreeMap<>();
            for (NamespaceEntry n : view.namespaces()) {
                actual.put(n.ns(), n);
            }
            Map<String, BsonDocument> expected = new TreeMap<>();
            for (BsonValue v : state.getArray("namespaces", new BsonArray())) {
                BsonDocument ns = v.asDocument();
                expected.put(ns.getString("db").getValue() + "." + ns.getString("coll").getValue(), ns);
            }
            assertEquals(expected.keySet(), actual.keySet(), name + " " + when + ": namespaces");
            for (Map.Entry<String, BsonDocument> e : expected.entrySet()) {
                assertNamespace(view, actual.get(e.getKey()), e.getValue(), when);
            }
            if (state.containsKey("position")) {
                assertEquals(state.getTimestamp("position"), view.position().toBson(), name + " " + when + ": position");
            }
        }
        if (state.containsKey("pendingTransactions")) {
            assertEquals(state.getInt32("pendingTransactions").getValue(), head.pendingTransactionCount(),
                    name + " " + when + ": pending transactions");
        }
    }

    private void assertNamespace(HeadView view, NamespaceEntry n, BsonDocument exp, String when) {
        String where = name + " " + when + " " + n.ns() + ": ";
        UUID uuid = exp.containsKey("uuid") ? exp.getBinary("uuid").asUuid(UuidRepresentation.STANDARD) : null;
        assertEquals(uuid, n.uuid(), where + "uuid");
        assertEquals(exp.getString("type", new org.bson.BsonString("collection")).getValue(), n.type().wireName(), where + "type");
        assertEquals(raw(exp.getDocument("options", new BsonDocument())).toJson(JSON), n.options().toJson(JSON), where + "options");
        assertTrue(Arrays.equals(bytes(raw(exp.getDocument("options", new BsonDocument()))), bytes(n.options())), where + "options bytes");
        List<String> expIdx = new ArrayList<>();
        for (BsonValue i : exp.getArray("indexes", new BsonArray())) {
            expIdx.add(raw(i.asDocument()).toJson(JSON));
        }
        List<String> actIdx = n.indexes().stream().map(i -> i.toJson(JSON)).toList();
        assertEquals(expIdx, actIdx, where + "indexes");
        if (exp.containsKey("indexBuilds")) {
            assertEquals(exp.getInt32("indexBuilds").getValue(), n.indexBuilds().size(), where + "index builds in progress");
        }
        List<byte[]> expDocs = new ArrayList<>();
        for (BsonValue d : exp.getArray("documents", new BsonArray())) {
            expDocs.add(bytes(raw(d.asDocument())));
        }
        Comparator<byte[]> byKey = (a, b) -> Arrays.compareUnsigned(key(n.id(), a), key(n.id(), b));
        expDocs.sort(byKey);
        List<byte[]> actDocs = new ArrayList<>();
        try (HeadView.DocumentCursor c = view.documents(n)) {
            while (c.hasNext()) {
                actDocs.add(c.nextBytes());
            }
        }
        List<String> expJson = expDocs.stream().map(Fixture::json).toList();
        List<String> actJson = actDocs.stream().map(Fixture::json).toList();
        assertEquals(expJson, actJson, where + "documents");
        for (int i = 0; i < expDocs.size(); i++) {
            if (!Arrays.equals(expDocs.get(i), actDocs.get(i))) {
                fail(where + "document bytes differ (types?): " + expJson.get(i));
            }
        }
        assertEquals(expDocs.size(), view.documentCount(n.id()), where + "document count");
    }

    private static byte[] key(int nsId, byte[] doc) {
        BsonCursor c = new BsonCursor();
        c.find(doc, 0, "_id");
        return DocumentKeys.key(nsId, c.type, doc, c.valueStart, c.valueLength);
    }
}
