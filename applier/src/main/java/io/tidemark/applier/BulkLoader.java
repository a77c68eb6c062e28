package io.tidemark.applier;

import io.tidemark.shared.bson.BsonCursor;
import java.util.HashMap;
import java.util.Set;

import org.bson.RawBsonDocument;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Writes initial-sync (or snapshot) documents of one namespace into a head in bounded write
 * batches. Documents are stored as given (raw bytes); a document whose _id is already present
 * replaces it, as a re-delivered slice must. Part of the head's write path: one writer thread.
 */
@SuppressWarnings("try") // leases are held for their try block, never referenced in it
public final class BulkLoader implements DocumentLoader {
    private static final long BATCH_BYTES = 8L << 20;
    private static final int BATCH_DOCS = 20_000;

    private final Head head;
    private final HeadDatabase database;
    private final int nsId;
    private WriteBatch batch = new WriteBatch();
    private final HashMap<ByteKey, Boolean> inBatch = new HashMap<>();
    private long batchBytes;
    private long added;
    private long fresh;
    private long freshInBatch;
    private boolean finished;

    BulkLoader(Head head, HeadDatabase database, int nsId) {
        this.head = head;
        this.database = database;
        this.nsId = nsId;
    }

    public void add(RawBsonDocument doc) {
        var bb = doc.getByteBuffer();
        add(bb.array(), bb.position(), bb.limit() - bb.position());
    }

    @Override
    public void add(byte[] buf, int offset, int length) {
        BsonCursor c = new BsonCursor();
        if (!c.find(buf, offset, "_id")) {
            throw new IllegalArgumentException("document without _id");
        }
        byte[] key = DocumentKeys.key(nsId, c.type, buf, c.valueStart, c.valueLength);
        byte[] value = new byte[length];
        System.arraycopy(buf, offset, value, 0, length);
        // Staging names the docs column family: held under a lease so the head cannot free it.
        try (LeaseGate.Lease l = database.gate().acquire()) {
            ByteKey k = new ByteKey(key);
            if (inBatch.put(k, Boolean.TRUE) == null && head.readDocument(key) == null) {
                freshInBatch++;
            }
            batch.put(database.docs, key, value);
        } catch (RocksDBException e) {
            throw new HeadException("bulk load failed", e);
        }
        added++;
        batchBytes += key.length + length;
        if (batchBytes >= BATCH_BYTES || inBatch.size() >= BATCH_DOCS) {
            flush(false);
        }
    }

    private void flush(boolean sync) {
        try (LeaseGate.Lease l = database.gate().acquire()) {
            long newCount = head.documentCount(nsId) + freshInBatch;
            commitLoad(head, database, batch, nsId, newCount, sync);
            fresh += freshInBatch;
        } catch (RocksDBException e) {
            throw new HeadException("bulk load failed", e);
        } finally {
            batch.close();
            batch = new WriteBatch();
            inBatch.clear();
            batchBytes = 0;
            freshInBatch = 0;
        }
    }

    /**
     * Writes {@code batch} (a load's documents, or nothing when they were ingested as files) with
     * the namespace's new count and change record, then tells the head. Under a lease.
     */
    static void commitLoad(Head head, HeadDatabase database, WriteBatch batch, int nsId, long newCount, boolean sync)
            throws RocksDBException {
        batch.put(database.meta, MetaKeys.count(nsId), MetaKeys.encodeLong(newCount));
        long seq = head.recordModifications(batch, Set.of(nsId));
        // A bulk load (initial sync, a restore's load) is not tracked key by key: the next
        // snapshot stores the whole namespace.
        batch.put(database.dirty, DirtyKeys.namespaceMark(nsId), MetaKeys.encodeLong(seq));
        head.writeTracked(sync ? database.syncWrite : database.bulkWrite, batch);
        // A re-delivered slice may replace documents the cache holds.
        head.forgetCachedDocuments();
        head.loaded(nsId, newCount);
    }

    /** Writes what is left, syncs, and returns how many documents were new to the head. */
    @Override
    public long finish() {
        if (!finished) {
            flush(true);
            finished = true;
        }
        return fresh;
    }

    public long added() {
        return added;
    }

    @Override
    public void close() {
        batch.close();
    }
}
