package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Change tracking: what the head records as changed since the last complete snapshot, and clearing it. */
class DirtyKeysTest {
    @TempDir
    Path dir;

    private int ts = 1;

    private static RawBsonDocument doc(int id, String v) {
        return new RawBsonDocument(new BsonDocument("_id", new BsonInt32(id)).append("v", new BsonString(v)), new BsonDocumentCodec());
    }

    private RawBsonDocument entry(String op, UUID uuid, BsonDocument o, BsonDocument o2) {
        BsonDocument e = new BsonDocument("op", new BsonString(op)).append("ns", new BsonString(op.equals("c") ? "db.$cmd" : "db.c"))
                .append("ui", new BsonBinary(uuid, UuidRepresentation.STANDARD)).append("o", o);
        if (o2 != null) {
            e.append("o2", o2);
        }
        return new RawBsonDocument(e.append("ts", new BsonTimestamp(1_700_000_000, ts++)).append("t", new BsonInt64(3))
                .append("v", new BsonInt64(2)).append("wall", new BsonDateTime(0)), new BsonDocumentCodec());
    }

    private RawBsonDocument insert(UUID uuid, int id, String v) {
        return entry("i", uuid, doc(id, v), new BsonDocument("_id", new BsonInt32(id)));
    }

    private RawBsonDocument replace(UUID uuid, int id, String v) {
        return entry("u", uuid, doc(id, v), new BsonDocument("_id", new BsonInt32(id)));
    }

    private RawBsonDocument delete(UUID uuid, int id) {
        return entry("d", uuid, new BsonDocument("_id", new BsonInt32(id)), null);
    }

    private static List<byte[]> dirtyKeys(HeadView v, int nsId) {
        List<byte[]> keys = new ArrayList<>();
        byte[] after = null;
        for (DirtyPage p = v.dirtyDocuments(nsId, null, 2); !p.isEmpty(); p = v.dirtyDocuments(nsId, after, 2)) {
            keys.addAll(p.keys());
            after = p.lastKey();
        }
        return keys;
    }

    @Test
    void recordsChangedKeysWithTheirDocumentsAndClearsOnlyWhatASnapshotHolds() {
        UUID uuid = UUID.randomUUID();
        try (Head head = Head.open(dir)) {
            int nsId = head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of()).id();
            String incarnation = head.incarnation();
            try (HeadView v = head.openView()) {
                assertTrue(v.namespaceDirty(nsId), "a new namespace is stored whole next time");
                head.snapshotCompleted(incarnation, v.modificationSeq());
            }
            OplogApplier applier = new OplogApplier(head);
            applier.apply(List.of(insert(uuid, 1, "a"), insert(uuid, 2, "b"), insert(uuid, 3, "c"), insert(uuid, 4, "d")),
                    OplogApplier.Mode.STEADY);
            long firstSeq;
            try (HeadView v = head.openView()) {
                assertFalse(v.namespaceDirty(nsId), "cleared by the snapshot");
                assertEquals(4, dirtyKeys(v, nsId).size());
                firstSeq = v.modificationSeq();
                assertTrue(v.dirtyClearedThrough() < firstSeq);
                head.snapshotCompleted(incarnation, firstSeq);
            }
            applier.apply(List.of(replace(uuid, 2, "b2"), delete(uuid, 3), insert(uuid, 5, "e")), OplogApplier.Mode.STEADY);
            try (HeadView snap = head.openView()) {
                DirtyPage all = snap.dirtyDocuments(nsId, null, 100);
                assertEquals(3, all.keys().size());
                assertArrayEquals(DocumentKeys.key(nsId, new BsonInt32(2)), all.keys().get(0));
                assertEquals("b2", new RawBsonDocument(all.documents().get(0)).getString("v").getValue());
                assertNull(all.documents().get(1), "a deleted document is a changed key without a document");
                assertEquals("e", new RawBsonDocument(all.documents().get(2)).getString("v").getValue());
                // Changed again after the snapshot's view: must survive the clearing.
                applier.apply(List.of(replace(uuid, 5, "e2")), OplogApplier.Mode.STEADY);
                head.snapshotCompleted("another incarnation", snap.modificationSeq());
                try (HeadView still = head.openView()) {
                    assertEquals(3, dirtyKeys(still, nsId).size(), "a snapshot of another head clears nothing");
                }
                head.snapshotCompleted(incarnation, snap.modificationSeq());
                assertEquals(3, dirtyKeys(snap, nsId).size(), "the view keeps its instant");
            }
        }
        try (Head head = Head.open(dir)) {
            int nsId = head.catalog().byName("db.c").orElseThrow().id();
            try (HeadView v = head.openView()) {
                List<byte[]> left = dirtyKeys(v, nsId);
                assertEquals(1, left.size());
                assertArrayEquals(DocumentKeys.key(nsId, new BsonInt32(5)), left.get(0));
            }
        }
    }

    @Test
    void bulkLoadsAndCatalogChangesMarkTheWholeNamespace() {
        UUID uuid = UUID.randomUUID();
        try (Head head = Head.open(dir)) {
            int nsId = head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of()).id();
            try (HeadView v = head.openView()) {
                head.snapshotCompleted(head.incarnation(), v.modificationSeq());
            }
            head.bulkLoad(nsId, List.of(doc(1, "a"), doc(2, "b")).iterator());
            try (HeadView v = head.openView()) {
                assertTrue(v.namespaceDirty(nsId));
                assertEquals(0, dirtyKeys(v, nsId).size(), "bulk loads are not tracked key by key");
                head.snapshotCompleted(head.incarnation(), v.modificationSeq());
            }
            new OplogApplier(head).apply(List.of(entry("c", uuid, new BsonDocument("collMod", new BsonString("c"))
                    .append("validationLevel", new BsonString("off")), null)), OplogApplier.Mode.STEADY);
            try (HeadView v = head.openView()) {
                assertTrue(v.namespaceDirty(nsId), "a catalog change stores the namespace whole");
            }
        }
    }
}
