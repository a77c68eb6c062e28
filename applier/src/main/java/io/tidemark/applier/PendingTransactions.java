package io.tidemark.applier;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bson.BsonTimestamp;

/**
 * Transactions whose oplog entries have started to arrive but whose outcome has not: unprepared
 * chains of {@code partialTxn} entries waiting for their final applyOps, and prepared transactions
 * waiting for commitTransaction or abortTransaction. Keyed by lsid + txnNumber, the identity
 * MongoDB gives a transaction. Each chain entry is persisted in the head's txns column family in
 * the same write batch as the position that covers it, so a chain can span batches and crashes.
 */
final class PendingTransactions {
    /** One pending transaction: its raw oplog entries in chain order. */
    record Txn(byte[] key, List<byte[]> entries, List<BsonTimestamp> entryTs, boolean prepared, int opCount) {
        BsonTimestamp lastTs() {
            return entryTs.get(entryTs.size() - 1);
        }

        Txn append(byte[] entry, BsonTimestamp ts, boolean nowPrepared, int ops) {
            List<byte[]> e = new ArrayList<>(entries);
            e.add(entry);
            List<BsonTimestamp> t = new ArrayList<>(entryTs);
            t.add(ts);
            return new Txn(key, Collections.unmodifiableList(e), Collections.unmodifiableList(t), nowPrepared, opCount + ops);
        }
    }

    private final Map<ByteKey, Txn> byKey;

    PendingTransactions(Map<ByteKey, Txn> byKey) {
        this.byKey = byKey;
    }

    static PendingTransactions empty() {
        return new PendingTransactions(new HashMap<>());
    }

    Txn get(byte[] txnKey) {
        return byKey.get(new ByteKey(txnKey));
    }

    Collection<Txn> all() {
        return Collections.unmodifiableCollection(byKey.values());
    }

    int size() {
        return byKey.size();
    }

    PendingTransactions copy() {
        return new PendingTransactions(new HashMap<>(byKey));
    }

    void put(Txn txn) {
        byKey.put(new ByteKey(txn.key()), txn);
    }

    void remove(byte[] txnKey) {
        byKey.remove(new ByteKey(txnKey));
    }

    /** Storage key of one chain entry: length-prefixed transaction key, then the entry's ts. */
    static byte[] storageKey(byte[] txnKey, BsonTimestamp ts) {
        return ByteBuffer.allocate(4 + txnKey.length + 8).putInt(txnKey.length).put(txnKey).putLong(ts.getValue()).array();
    }

    /** Rebuilds the pending set from stored chain entries, which arrive sorted by storage key. */
    static PendingTransactions load(Iterable<Map.Entry<byte[], byte[]>> stored) {
        PendingTransactions p = empty();
        for (Map.Entry<byte[], byte[]> e : stored) {
            ByteBuffer k = ByteBuffer.wrap(e.getKey());
            byte[] txnKey = new byte[k.getInt()];
            k.get(txnKey);
            BsonTimestamp ts = new BsonTimestamp(k.getLong());
            OplogEntry entry = OplogEntry.parse(e.getValue(), 0);
            Txn t = p.get(txnKey);
            if (t == null) {
                t = new Txn(txnKey, List.of(), List.of(), false, 0);
            }
            p.put(t.append(e.getValue(), ts, entry.isPrepare(), entry.applyOpsCount()));
        }
        return p;
    }
}
