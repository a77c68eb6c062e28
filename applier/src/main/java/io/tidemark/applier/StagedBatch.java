package io.tidemark.applier;

import io.tidemark.shared.oplog.OpTime;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.bson.BsonTimestamp;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The changes of one write batch while they are being built. Document writes go into an overlay
 * map, so later entries of the batch read their own writes, and reach the RocksDB WriteBatch when
 * it is written: the final state of each document once, in key order. Sorted, each memtable insert
 * starts its skiplist search from where the previous one ended instead of from the top (random
 * inserts into a large memtable cost as much as the WAL and the applying together). Whole-namespace
 * removals go into the WriteBatch as they happen, so they precede every document write of the batch,
 * and the overlay holds only what was written after them. Catalog, counts and pending
 * transactions are edited on private copies and published only after the batch commits, so a
 * failed batch leaves the head, on disk and in memory, exactly as it was.
 *
 * <p>A batch may be staged while its predecessor is still being written: it then reads the
 * predecessor's documents and counts before the head's. Only a predecessor that changed nothing
 * but documents may still be in flight (see {@link #documentsOnly()}), so the head's catalog,
 * pending transactions and namespace ids are already what this batch must start from.
 */
final class StagedBatch implements AutoCloseable {
    /** A deleted document, as the document cache records one. */
    private static final byte[] DELETED = DocumentCache.ABSENT;

    private final Head head;
    /** The sealed batch still being written when this one started, or null. */
    private StagedBatch predecessor;
    private final WriteBatch wb = new WriteBatch();
    /** Sized for a whole batch of the applier's: growing it rehashes every document again. */
    private final HashMap<ByteKey, byte[]> docs = new HashMap<>(4096);
    /** Documents read ahead with one multiGet, as committed before this batch (see {@link #prefetch}). */
    private final HashMap<ByteKey, byte[]> prefetched = new HashMap<>(4096);
    /** Namespaces whose documents were all removed in this batch (drop, emptycapped). */
    private final Set<Integer> cleared = new HashSet<>();
    private final HashMap<Integer, Long> counts = new HashMap<>();
    /** Namespaces this batch changes: their last-modified position moves with the commit. */
    private final Set<Integer> touched = new HashSet<>();
    /** Namespaces the next snapshot must store whole: catalog changes, clears (see {@link DirtyKeys}). */
    private final Set<Integer> markedWhole = new HashSet<>();
    /** The modification sequence the batch was sealed with, as tracking stores it. */
    private byte[] sealedSeq;
    private HeadCatalog.Edit catalog;
    private PendingTransactions pending;
    private int nextNsId;
    private long stagedBytes;
    private OpTime sealedAt;
    private long sealedTerm;
    private boolean documentsOnly;
    private volatile boolean written;

    StagedBatch(Head head) {
        this(head, null);
    }

    /** A batch that follows {@code predecessor}, sealed but perhaps not yet written (null: none). */
    StagedBatch(Head head, StagedBatch predecessor) {
        if (predecessor != null && !predecessor.documentsOnly()) {
            throw new IllegalStateException("a batch may only follow a sealed batch that changed documents only");
        }
        this.head = head;
        this.predecessor = predecessor;
        this.nextNsId = head.peekNextNsId();
    }

    long stagedBytes() {
        return stagedBytes;
    }

    // ---------------------------------------------------------------- documents

    /** The document at {@code key} as this batch sees it, or null. */
    byte[] get(int nsId, byte[] key) {
        ByteKey k = new ByteKey(key);
        byte[] v = docs.get(k);
        if (v != null) {
            return v == DELETED ? null : v;
        }
        if (cleared.contains(nsId)) {
            return null;
        }
        if (predecessor != null) {
            v = predecessor.docs.get(k);
            if (v != null) {
                return v == DELETED ? null : v;
            }
        }
        v = prefetched.get(k);
        if (v == null) {
            v = head.cachedDocument(key);
        }
        if (v != null) {
            return v == DELETED ? null : v;
        }
        return head.readDocument(key);
    }

    /**
     * Records documents read ahead for {@code keys} ({@code values} null: read them now). Nothing
     * is committed while a batch is staged, so what the head holds for a key stays valid for the
     * whole batch; this batch's own writes still take precedence in {@link #get}.
     */
    void prefetched(List<byte[]> keys, List<byte[]> values) {
        if (keys.isEmpty()) {
            return;
        }
        if (values == null) {
            values = head.readDocuments(keys);
        }
        for (int i = 0; i < keys.size(); i++) {
            byte[] v = values.get(i);
            prefetched.put(new ByteKey(keys.get(i)), v == null ? DELETED : v);
        }
    }

    /** Whether this batch or its predecessor wrote {@code key}. */
    boolean isWritten(byte[] key) {
        ByteKey k = new ByteKey(key);
        return docs.containsKey(k) || predecessor != null && predecessor.docs.containsKey(k);
    }

    void put(int nsId, byte[] key, byte[] value, boolean isNew) {
        docs.put(new ByteKey(key), value);
        touched.add(nsId);
        stagedBytes += key.length + value.length;
        if (isNew) {
            counts.put(nsId, count(nsId) + 1);
        }
    }

    void delete(int nsId, byte[] key) {
        docs.put(new ByteKey(key), DELETED);
        touched.add(nsId);
        stagedBytes += key.length;
        counts.put(nsId, count(nsId) - 1);
    }

    /** Removes every document of a namespace (one range delete: ids are never reused). */
    void clear(int nsId) {
        try {
            wb.deleteRange(head.database().docs, DocumentKeys.prefix(nsId), DocumentKeys.upperBound(nsId));
        } catch (RocksDBException e) {
            throw new HeadException("staging failed", e);
        }
        docs.keySet().removeIf(k -> DocumentKeys.nsId(k.bytes) == nsId);
        cleared.add(nsId);
        touched.add(nsId);
        markedWhole.add(nsId);
        counts.put(nsId, 0L);
    }

    long count(int nsId) {
        Long c = counts.get(nsId);
        if (c == null && predecessor != null) {
            c = predecessor.counts.get(nsId);
        }
        return c != null ? c : head.documentCount(nsId);
    }

    // ---------------------------------------------------------------- catalog

    private HeadCatalog.Edit catalogEdit() {
        if (catalog == null) {
            catalog = head.catalog().edit();
        }
        return catalog;
    }

    NamespaceEntry byName(String ns) {
        return catalog != null ? catalog.byName(ns) : head.catalog().byName(ns).orElse(null);
    }

    NamespaceEntry byUuid(UUID uuid) {
        return catalog != null ? catalog.byUuid(uuid) : head.catalog().byUuid(uuid).orElse(null);
    }

    List<NamespaceEntry> inDatabase(String db) {
        return catalog != null ? catalog.inDatabase(db) : head.catalog().inDatabase(db);
    }

    int allocateNsId() {
        return nextNsId++;
    }

    /** Adds or replaces (same id) a namespace. */
    void putNamespace(NamespaceEntry n) {
        catalogEdit().put(n);
        touched.add(n.id());
        markedWhole.add(n.id());
        try {
            wb.put(head.database().catalog, MetaKeys.catalog(n.id()), bytes(n.toBson()));
        } catch (RocksDBException e) {
            throw new HeadException("staging failed", e);
        }
    }

    /** Removes a namespace and all its documents. */
    void dropNamespace(NamespaceEntry n) {
        catalogEdit().remove(n.id());
        clear(n.id());
        counts.put(n.id(), -1L);
        try {
            wb.delete(head.database().catalog, MetaKeys.catalog(n.id()));
        } catch (RocksDBException e) {
            throw new HeadException("staging failed", e);
        }
    }

    private static byte[] bytes(org.bson.RawBsonDocument d) {
        var bb = d.getByteBuffer();
        byte[] out = new byte[bb.limit() - bb.position()];
        System.arraycopy(bb.array(), bb.position(), out, 0, out.length);
        return out;
    }

    // ---------------------------------------------------------------- pending transactions

    PendingTransactions.Txn pendingTxn(byte[] txnKey) {
        return (pending != null ? pending : head.pending()).get(txnKey);
    }

    /** Appends one chain entry (partialTxn or prepare applyOps) to its transaction. */
    void appendPending(byte[] txnKey, OplogEntry entry, boolean prepared, int ops) {
        if (pending == null) {
            pending = head.pending().copy();
        }
        PendingTransactions.Txn t = pending.get(txnKey);
        if (t == null) {
            t = new PendingTransactions.Txn(txnKey, java.util.List.of(), java.util.List.of(), false, 0);
        }
        byte[] raw = entry.copyBytes();
        pending.put(t.append(raw, entry.ts, prepared, ops));
        try {
            wb.put(head.database().txns, PendingTransactions.storageKey(txnKey, entry.ts), raw);
        } catch (RocksDBException e) {
            throw new HeadException("staging failed", e);
        }
        stagedBytes += raw.length;
    }

    void removePending(PendingTransactions.Txn t) {
        if (pending == null) {
            pending = head.pending().copy();
        }
        pending.remove(t.key());
        try {
            for (BsonTimestamp ts : t.entryTs()) {
                wb.delete(head.database().txns, PendingTransactions.storageKey(t.key(), ts));
            }
        } catch (RocksDBException e) {
            throw new HeadException("staging failed", e);
        }
    }

    // ---------------------------------------------------------------- commit

    /**
     * Whether this sealed batch changed only documents (no catalog, namespace ids, pending
     * transactions or whole-namespace removals), so that the next batch may be staged while it is
     * written.
     */
    boolean documentsOnly() {
        if (sealedAt == null) {
            throw new IllegalStateException("batch not sealed");
        }
        return documentsOnly;
    }

    /** Writes everything with the position it reaches, then publishes it. */
    void commit(OpTime position, long term) {
        seal(position, term);
        write();
    }

    /**
     * Completes the write batch with the head's metadata at {@code position}. Nothing may be staged
     * after; on the writer thread, since it takes the head's next modification number.
     */
    void seal(OpTime position, long term) {
        if (sealedAt != null) {
            throw new IllegalStateException("batch already sealed");
        }
        documentsOnly = catalog == null && pending == null && cleared.isEmpty() && nextNsId == head.peekNextNsId();
        try {
            for (Map.Entry<Integer, Long> c : counts.entrySet()) {
                if (c.getValue() < 0) {
                    wb.delete(head.database().meta, MetaKeys.count(c.getKey()));
                } else {
                    wb.put(head.database().meta, MetaKeys.count(c.getKey()), MetaKeys.encodeLong(c.getValue()));
                }
            }
            if (nextNsId != head.peekNextNsId()) {
                wb.put(head.database().meta, MetaKeys.NEXT_NS_ID, ByteBuffer.allocate(4).putInt(nextNsId).array());
            }
            if (!touched.isEmpty()) {
                sealedSeq = MetaKeys.encodeLong(head.recordModifications(wb, touched));
                for (int nsId : markedWhole) {
                    wb.put(head.database().dirty, DirtyKeys.namespaceMark(nsId), sealedSeq);
                }
            }
            wb.put(head.database().meta, MetaKeys.POSITION, MetaKeys.encodePosition(position, term));
        } catch (RocksDBException e) {
            throw new HeadException("staging failed", e);
        }
        sealedAt = position;
        sealedTerm = term;
        // Cached now, on the writer thread: the next batch reads this one's documents from it
        // until it is written, and the commit thread then only writes.
        head.cacheDocuments(docs, !cleared.isEmpty());
    }

    private void writeDocuments() throws RocksDBException {
        List<Map.Entry<ByteKey, byte[]>> sorted = new ArrayList<>(docs.entrySet());
        sorted.sort((a, b) -> Arrays.compareUnsigned(a.getKey().bytes, b.getKey().bytes));
        for (Map.Entry<ByteKey, byte[]> d : sorted) {
            // Change tracking in the same batch as the change: exact across crashes.
            wb.put(head.database().dirty, d.getKey().bytes, sealedSeq);
            if (d.getValue() == DELETED) {
                wb.delete(head.database().docs, d.getKey().bytes);
            } else {
                wb.put(head.database().docs, d.getKey().bytes, d.getValue());
            }
        }
    }

    /**
     * Writes the sealed batch and publishes it. Its predecessor must be written by now: from here
     * on the head answers for everything the predecessor wrote.
     */
    void write() {
        if (sealedAt == null) {
            throw new IllegalStateException("batch not sealed");
        }
        predecessor = null;
        try {
            // Here rather than when sealed: sorting and copying into the WriteBatch then run on the
            // commit thread, off the applier's.
            writeDocuments();
        } catch (RocksDBException e) {
            throw new HeadException("staging failed", e);
        }
        head.commit(wb, catalog == null ? null : catalog.freeze(), counts, pending, nextNsId, sealedAt, sealedTerm);
        written = true;
    }

    @Override
    public void close() {
        if (sealedAt != null && !written) {
            // What it cached was never written.
            head.forgetCachedDocuments();
        }
        wb.close();
    }
}
