package io.tidemark.applier;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;

/**
 * Change tracking for delta snapshots: the head's {@code dirty} column family holds every
 * document key written since the last complete snapshot (and, as a bare 4-byte namespace id, every
 * namespace whose catalog entry changed or that was cleared or bulk-loaded: stored whole next
 * time), each with the modification sequence that last dirtied it. The entries are written in the
 * same WriteBatch as the change they describe, so the set is exact across crashes.
 *
 * <p>What the set covers is recorded in {@link MetaKeys#DIRTY_CLEARED}: every key changed after
 * that sequence has an entry whose value is after it. Clearing after a snapshot first raises that
 * mark to the snapshot's sequence and only then deletes the entries whose value is not after it,
 * under the head's commit lock so that a key re-dirtied meanwhile (a higher value) stays. A crash
 * anywhere in clearing leaves entries that were already covered: the next delta is larger, never
 * short. A head that predates tracking starts with the mark at its current sequence, so no delta is
 * ever taken against a snapshot older than the tracking itself.
 */
final class DirtyKeys {
    /** Entries deleted per write batch when clearing, each batch under the commit lock. */
    private static final int CLEAR_BATCH = 10_000;

    private DirtyKeys() {
    }

    /** The key that marks a whole namespace: its document-key prefix, shorter than any document key. */
    static byte[] namespaceMark(int nsId) {
        return DocumentKeys.prefix(nsId);
    }

    static boolean isNamespaceMark(byte[] key) {
        return key.length == DocumentKeys.prefix(0).length;
    }

    /**
     * Deletes the entries dirtied no later than {@code throughSeq}; a chunk at a time, each chunk read
     * and deleted under {@code lock} (the lock every commit writes under). Returns how many it deleted.
     */
    static long clear(HeadDatabase database, Object lock, long throughSeq) {
        long deleted = 0;
        byte[] from = null;
        while (true) {
            synchronized (lock) {
                try (LeaseGate.Lease l = database.gate().acquire();
                     RocksIterator it = database.db().newIterator(database.dirty);
                     WriteBatch wb = new WriteBatch()) {
                    int n = 0;
                    if (from == null) {
                        it.seekToFirst();
                    } else {
                        it.seek(from);
                    }
                    for (; it.isValid() && n < CLEAR_BATCH; it.next(), n++) {
                        byte[] k = it.key();
                        if (MetaKeys.decodeLong(it.value()) <= throughSeq) {
                            wb.delete(database.dirty, k);
                            deleted++;
                        }
                        from = k;
                    }
                    boolean more = it.isValid();
                    if (more) {
                        from = it.key();
                    }
                    database.db().write(database.groupWrite, wb);
                    if (!more) {
                        return deleted;
                    }
                } catch (RocksDBException e) {
                    throw new HeadException("cannot clear the head's change tracking", e);
                }
            }
        }
    }

    /**
     * Up to {@code max} dirty document keys of {@code nsId} after {@code after} (null: from the start),
     * in key order, each with its document at the same snapshot (null: deleted). The namespace mark,
     * if any, is skipped: ask {@link HeadView#namespaceDirty} for it.
     */
    static DirtyPage page(RocksDB db, HeadDatabase database, Snapshot snapshot, ReadOptions snapshotRead, int nsId, byte[] after, int max)
            throws RocksDBException {
        List<byte[]> keys = new ArrayList<>();
        try (Slice upper = new Slice(DocumentKeys.upperBound(nsId));
             ReadOptions ro = new ReadOptions().setSnapshot(snapshot).setIterateUpperBound(upper)
                     .setFillCache(false);
             RocksIterator it = db.newIterator(database.dirty, ro)) {
            it.seek(after == null ? DocumentKeys.prefix(nsId) : after);
            for (; it.isValid() && keys.size() < max; it.next()) {
                byte[] k = it.key();
                if (isNamespaceMark(k) || after != null && Arrays.equals(k, after)) {
                    continue;
                }
                keys.add(k);
            }
            it.status();
        }
        List<byte[]> docs = keys.isEmpty() ? List.of()
                : db.multiGetAsList(snapshotRead, Collections.nCopies(keys.size(), database.docs), keys);
        return new DirtyPage(keys, docs);
    }
}
