package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeadTest {
    @TempDir
    Path dir;

    private static RawBsonDocument doc(int id, String v) {
        return new RawBsonDocument(new BsonDocument("_id", new BsonInt32(id)).append("v", new BsonString(v)), new BsonDocumentCodec());
    }

    private static RawBsonDocument insert(int i, UUID uuid, RawBsonDocument d) {
        return TestEntries.insert(i, uuid, d);
    }

    @Test
    void bulkLoadCountsRedeliveredDocumentsOnceAndSurvivesReopen() {
        UUID uuid = UUID.randomUUID();
        int nsId;
        try (Head head = Head.open(dir)) {
            NamespaceEntry ns = head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of());
            nsId = ns.id();
            List<RawBsonDocument> docs = new ArrayList<>();
            for (int i = 0; i < 25_000; i++) {
                docs.add(doc(i, "x" + i));
            }
            assertEquals(25_000, head.bulkLoad(nsId, docs.iterator()));
            // A slice delivered again (after an agent retry) replaces, and is not counted twice.
            assertEquals(0, head.bulkLoad(nsId, docs.subList(0, 100).iterator()));
            assertEquals(25_000, head.documentCount("db.c"));
            assertTrue(head.approximateSizeOnDisk() > 0);
        }
        try (Head head = Head.open(dir)) {
            assertEquals(25_000, head.documentCount(nsId));
            assertEquals(uuid, head.catalog().byName("db.c").orElseThrow().uuid());
            assertEquals("x7", head.document("db.c", new BsonInt32(7)).orElseThrow().getString("v").getValue());
            assertFalse(head.document("db.c", new BsonInt64(7)).isPresent(), "int64 7 is another _id than int32 7");
        }
    }

    @Test
    void viewStaysAtItsPositionWhileTheApplierMovesOn() {
        UUID uuid = UUID.randomUUID();
        try (Head head = Head.open(dir)) {
            NamespaceEntry ns = head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of());
            OplogApplier applier = new OplogApplier(head);
            applier.apply(List.of(insert(1, uuid, doc(1, "a"))), OplogApplier.Mode.STEADY);
            try (HeadView view = head.openView()) {
                applier.apply(List.of(insert(2, uuid, doc(2, "b")), insert(3, uuid, doc(3, "c"))), OplogApplier.Mode.STEADY);
                assertEquals(new BsonTimestamp(1_700_000_000, 1), view.position().toBson());
                assertEquals(3, view.term());
                assertEquals(1, view.documentCount(ns.id()));
                int n = 0;
                try (HeadView.DocumentCursor c = view.documents(ns)) {
                    while (c.hasNext()) {
                        c.next();
                        n++;
                    }
                }
                assertEquals(1, n);
            }
            assertEquals(3, head.documentCount(ns.id()));
            assertEquals(new BsonTimestamp(1_700_000_000, 3), head.appliedTs());
        }
    }

    @Test
    void internalNamespacesAreRefused() {
        try (Head head = Head.open(dir)) {
            assertThrows(IllegalArgumentException.class,
                    () -> head.createNamespace("config", "system.sessions", UUID.randomUUID(), NamespaceType.COLLECTION, null, List.of()));
        }
    }

    @Test
    void entriesOutOfOrderAreRejected() {
        UUID uuid = UUID.randomUUID();
        try (Head head = Head.open(dir)) {
            head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of());
            OplogApplier applier = new OplogApplier(head);
            assertThrows(IllegalArgumentException.class, () -> applier.apply(
                    List.of(insert(5, uuid, doc(1, "a")), insert(4, uuid, doc(2, "b"))), OplogApplier.Mode.STEADY));
            assertEquals(0, head.documentCount("db.c"));
        }
    }

    @Test
    void largeInputIsCommittedInSeveralBatchesEachWithItsPosition() {
        UUID uuid = UUID.randomUUID();
        try (Head head = Head.open(dir)) {
            head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of());
            List<RawBsonDocument> entries = new ArrayList<>();
            String big = "x".repeat(4000);
            for (int i = 1; i <= 9_000; i++) {
                entries.add(insert(i, uuid, doc(i, big)));
            }
            OplogApplier.Result r = new OplogApplier(head).apply(entries, OplogApplier.Mode.STEADY);
            assertEquals(9_000, r.applied());
            assertEquals(9_000, head.documentCount("db.c"));
            assertEquals(new BsonTimestamp(1_700_000_000, 9_000), head.appliedTs());
        }
    }

    @Test
    void namespacesRecordTheirLastChangeAndARebuiltHeadIsANewIncarnation() {
        UUID uuid = UUID.randomUUID();
        String first;
        try (Head head = Head.open(dir)) {
            first = head.incarnation();
            NamespaceEntry c = head.createNamespace("db", "c", uuid, NamespaceType.COLLECTION, null, List.of());
            NamespaceEntry other = head.createNamespace("db", "other", UUID.randomUUID(), NamespaceType.COLLECTION, null, List.of());
            head.bulkLoad(other.id(), List.of(doc(1, "a")).iterator());
            new OplogApplier(head).apply(List.of(insert(5, uuid, doc(1, "x"))), OplogApplier.Mode.STEADY);
            long afterLoad;
            try (HeadView view = head.openView()) {
                assertEquals(view.modificationSeq(), view.lastModified(c.id()).orElseThrow(), "the insert was the last change");
                assertTrue(view.lastModified(other.id()).orElseThrow() < view.modificationSeq(),
                        "an untouched namespace keeps its older sequence number");
                assertEquals(first, view.incarnation());
                afterLoad = view.modificationSeq();
            }
            head.bulkLoad(other.id(), List.of(doc(2, "b")).iterator());
            try (HeadView view = head.openView()) {
                assertTrue(view.lastModified(other.id()).orElseThrow() > afterLoad,
                        "a bulk load is a change even though the position does not move");
            }
        }
        try (Head reopened = Head.open(dir)) {
            assertEquals(first, reopened.incarnation(), "reopening is the same head");
        }
        Path rebuilt = dir.resolveSibling(dir.getFileName() + "-rebuilt");
        try (Head other = Head.open(rebuilt)) {
            assertNotEquals(first, other.incarnation());
        }
    }
}
