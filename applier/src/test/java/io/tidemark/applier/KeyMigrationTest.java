package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksIterator;

import io.tidemark.shared.testing.ChildJvm;

/**
 * Heads written with key encoding 1 open, migrate in place to the current encoding (also after a
 * crash midway) and then hold the same documents, in _id order.
 */
class KeyMigrationTest {
    private static final int DOCS = 2_000;

    @TempDir
    Path dir;

    @AfterEach
    void resetHooks() {
        KeyMigration.afterBatch = () -> { };
        KeyMigration.batchBytes = KeyMigration.BATCH_BYTES;
    }

    /** What a head held: per namespace, its count and hash; and its modification sequence. */
    private record State(Map<String, VerifyHash.Result> hashes, long modSeq) {
    }

    @Test
    void anEncodingOneHeadMigratesOnOpen() throws Exception {
        State before = createEncodingOneHead(dir);
        try (Head head = Head.open(dir)) {
            assertMigrated(head, before);
        }
        assertFalse(families(dir).contains(KeyMigration.LEGACY_FAMILY), "the old family is dropped");
        try (Head head = Head.open(dir)) {
            assertEquals(before.hashes, hashes(head), "reopening changes nothing");
        }
    }

    @Test
    void aMigrationStoppedMidwayCompletesOnReopen() throws Exception {
        State before = createEncodingOneHead(dir);
        KeyMigration.batchBytes = 8 << 10;
        int total = batchesToMigrate(dir, KeyMigration.batchBytes);
        int[] batches = {0};
        KeyMigration.afterBatch = () -> {
            if (++batches[0] == 5) {
                throw new IllegalStateException("stopped by the test");
            }
        };
        assertThrows(IllegalStateException.class, () -> Head.open(dir));
        assertTrue(families(dir).contains(KeyMigration.LEGACY_FAMILY));
        batches[0] = 0;
        KeyMigration.afterBatch = () -> batches[0]++;
        try (Head head = Head.open(dir)) {
            assertMigrated(head, before);
        }
        // Resumed after its progress marker: it did not copy everything again.
        assertEquals(total - 5, batches[0], "resumed after the 5 batches done");
    }

    /** The batches a whole migration of the head at {@code dir} takes (same rule as {@link KeyMigration}). */
    private static int batchesToMigrate(Path dir, long batchBytes) throws Exception {
        List<String> families = families(dir);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (String f : families) {
            descriptors.add(new ColumnFamilyDescriptor(Bson.utf8(f)));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        int batches = 0;
        try (DBOptions options = new DBOptions();
             RocksDB db = RocksDB.openReadOnly(options, dir.toString(), descriptors, handles);
             RocksIterator it = db.newIterator(handles.get(families.indexOf(KeyMigration.LEGACY_FAMILY)))) {
            long bytes = 0;
            for (it.seekToFirst(); it.isValid(); it.next()) {
                bytes += it.key().length + it.value().length;
                if (bytes >= batchBytes) {
                    batches++;
                    bytes = 0;
                }
            }
            if (bytes > 0) {
                batches++;
            }
            handles.forEach(ColumnFamilyHandle::close);
        }
        return batches;
    }

    @Test
    void aMigrationKilledAtAnyPointCompletesOnReopen() throws Exception {
        State before = createEncodingOneHead(dir);
        Random random = new Random();
        for (int attempt = 0; attempt < 2; attempt++) {
            java.util.concurrent.CountDownLatch migrating = new java.util.concurrent.CountDownLatch(1);
            Process child = ChildJvm.start(dir, List.of(), MigrateSlowly.class.getName(), List.of(dir.toString()),
                    line -> {
                        if (line.equals("batch")) {
                            migrating.countDown();
                        }
                    }, line -> { });
            try {
                assertTrue(migrating.await(60, TimeUnit.SECONDS), "the child started migrating");
                // Killed at a random point of the migration (a batch every ~20 ms, ~230 batches).
                Thread.sleep(random.nextInt(1500));
            } finally {
                child.destroyForcibly();
            }
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        }
        assertTrue(families(dir).contains(KeyMigration.LEGACY_FAMILY), "killed before the migration ended");
        try (Head head = Head.open(dir)) {
            assertMigrated(head, before);
        }
    }

    /** Child JVM: opens the head, migrating it slowly, then idles until killed. */
    public static final class MigrateSlowly {
        public static void main(String[] args) throws Exception {
            KeyMigration.batchBytes = 4 << 10;
            KeyMigration.afterBatch = () -> {
                System.out.println("batch");
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            Head head = Head.open(Path.of(args[0]));
            Thread.sleep(60_000);
            head.close();
        }
    }

    private void assertMigrated(Head head, State before) {
        assertEquals(DocumentKeys.ENCODING, head.keyEncoding());
        assertEquals(before.hashes, hashes(head), "same documents, same bytes");
        try (HeadView view = head.openView()) {
            assertTrue(view.modificationSeq() > before.modSeq, "the migration counts as a change");
            for (NamespaceEntry ns : view.namespaces()) {
                assertEquals(Optional.of(view.modificationSeq()), view.lastModified(ns.id()), "every namespace is stamped modified: " + ns.ns());
                List<BsonValue> ids = new ArrayList<>();
                try (HeadView.DocumentCursor c = view.documents(ns)) {
                    while (c.hasNext()) {
                        ids.add(c.next().get("_id"));
                    }
                }
                List<BsonValue> sorted = new ArrayList<>(ids);
                sorted.sort(MongoIdOrder.INSTANCE);
                assertEquals(sorted, ids, "documents come in _id order");
                for (BsonValue id : ids) {
                    assertTrue(head.document(ns.id(), id).isPresent(), "found by _id: " + id);
                }
            }
        }
    }

    private static Map<String, VerifyHash.Result> hashes(Head head) {
        Map<String, VerifyHash.Result> out = new HashMap<>();
        try (HeadView view = head.openView()) {
            for (NamespaceEntry ns : view.namespaces()) {
                out.put(ns.ns(), VerifyHash.of(view, ns.id()));
            }
        }
        return out;
    }

    /**
     * Writes a head with today's code, then rewrites it on disk into what a build before key
     * encodings wrote: documents under encoding-1 keys in the family {@code docs}, no {@code
     * docs.v2}, no recorded encoding.
     */
    static State createEncodingOneHead(Path dir) throws Exception {
        Random random = new Random(6);
        State state;
        try (Head head = Head.open(dir)) {
            for (String coll : List.of("a", "b")) {
                NamespaceEntry ns = head.createNamespace("db", coll, UUID.randomUUID(), NamespaceType.COLLECTION, null, List.of());
                // One document per _id as MongoDB's unique index sees it (1 and 1.0 are one).
                Map<BsonValue, RawBsonDocument> docs = new java.util.TreeMap<>(MongoIdOrder.INSTANCE);
                while (docs.size() < DOCS) {
                    BsonValue id = DocumentKeysTest.randomValue(random, 1);
                    if (id.isArray() || id.getBsonType() == org.bson.BsonType.REGULAR_EXPRESSION || id.getBsonType() == org.bson.BsonType.UNDEFINED) {
                        continue; // not allowed as _id
                    }
                    RawBsonDocument d = new RawBsonDocument(new BsonDocument("_id", id).append("v", new BsonString("x".repeat(200))),
                            new BsonDocumentCodec());
                    docs.putIfAbsent(id, d);
                }
                head.bulkLoad(ns.id(), docs.values().iterator());
            }
            state = new State(hashes(head), 0);
            try (HeadView view = head.openView()) {
                state = new State(state.hashes, view.modificationSeq());
            }
        }
        try (DBOptions options = new DBOptions()) {
            List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
            for (String f : families(dir)) {
                descriptors.add(new ColumnFamilyDescriptor(Bson.utf8(f)));
            }
            List<ColumnFamilyHandle> handles = new ArrayList<>();
            try (RocksDB db = RocksDB.open(options, dir.toString(), descriptors, handles)) {
                ColumnFamilyHandle v2 = handles.get(families(dir).indexOf(KeyMigration.FAMILY));
                ColumnFamilyHandle meta = handles.get(families(dir).indexOf("meta"));
                ColumnFamilyHandle old = db.createColumnFamily(new ColumnFamilyDescriptor(Bson.utf8(KeyMigration.LEGACY_FAMILY)));
                try (RocksIterator it = db.newIterator(v2)) {
                    for (it.seekToFirst(); it.isValid(); it.next()) {
                        db.put(old, encodingOneKey(it.key()), it.value());
                    }
                }
                db.dropColumnFamily(v2);
                db.delete(meta, MetaKeys.KEY_ENCODING);
                old.close();
                for (ColumnFamilyHandle h : handles) {
                    h.close();
                }
            }
        }
        return state;
    }

    /** Encoding 1, kept here as the old builds wrote it: namespace id, _id type byte, raw value bytes. */
    private static byte[] encodingOneKey(byte[] key) {
        BsonValue id = DocumentKeys.id(key);
        byte[] doc = DocumentKeysTest.raw(id);
        BsonCursor c = new BsonCursor(doc, 0);
        c.next();
        byte[] k = new byte[5 + c.valueLength];
        System.arraycopy(key, 0, k, 0, 4);
        k[4] = c.type;
        System.arraycopy(doc, c.valueStart, k, 5, c.valueLength);
        return k;
    }

    static List<String> families(Path dir) {
        try (Options o = new Options()) {
            List<String> out = new ArrayList<>();
            for (byte[] f : RocksDB.listColumnFamilies(o, dir.toString())) {
                out.add(new String(f, java.nio.charset.StandardCharsets.UTF_8));
            }
            return out;
        } catch (org.rocksdb.RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }
}
