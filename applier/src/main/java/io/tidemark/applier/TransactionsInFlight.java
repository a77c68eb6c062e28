package io.tidemark.applier;

import io.tidemark.shared.oplog.OpTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;

/**
 * Finds the transactions a head had pending at one position from the oplog before it, for a head
 * rebuilt from a snapshot: a snapshot holds documents, not the {@code partialTxn} chains and
 * prepared transactions whose outcome comes after its position, yet the head that applies the
 * oplog from there needs them exactly as {@link PendingTransactions} would hold them.
 *
 * <p>Fed the oplog in order up to the position, it keeps what the applier keeps: a chain entry
 * (partial or prepare applyOps) starts or extends its transaction, and a final applyOps, a
 * commitTransaction or an abortTransaction ends it. A chain whose first entries came before the
 * entries fed (its {@code prevOpTime} names an entry not seen) is completed backwards by
 * {@link #complete}, one lookup per missing entry. Memory is what the pending transactions hold,
 * as in the head itself.
 */
public final class TransactionsInFlight {

    private static final class Chain {
        final List<byte[]> entries = new ArrayList<>();
        final List<BsonTimestamp> ts = new ArrayList<>();
        /** The entry before the first one held, when it was not seen; null once complete. */
        BsonTimestamp missingBefore;
    }

    private final Map<ByteKey, Chain> chains = new LinkedHashMap<>();
    private long seen;
    private OpTime last;
    private long lastTerm = OplogEntry.UNKNOWN_TERM;

    /** The next oplog entry, in oplog order. */
    public void add(RawBsonDocument entry) {
        seen++;
        OplogEntry e = OplogEntry.parse(entry);
        last = OpTime.of(e.ts);
        lastTerm = e.term;
        if (!"c".equals(e.op) || !e.isTransactionEntry()) {
            return;
        }
        String command = e.commandName();
        ByteKey key = new ByteKey(e.transactionKey());
        if ("applyOps".equals(command) && (e.isPartial() || e.isPrepare())) {
            Chain c = chains.get(key);
            if (c == null) {
                c = new Chain();
                c.missingBefore = e.prevTs;
                chains.put(key, c);
            }
            c.entries.add(e.copyBytes());
            c.ts.add(e.ts);
        } else if ("applyOps".equals(command) || "commitTransaction".equals(command) || "abortTransaction".equals(command)) {
            chains.remove(key);
        }
    }

    /** Entries fed so far. */
    public long seen() {
        return seen;
    }

    /** The position of the last entry fed, or null. */
    public OpTime lastPosition() {
        return last;
    }

    /** The election term of the last entry fed ({@code -1} when unknown or none). */
    public long lastTerm() {
        return lastTerm;
    }

    /** Transactions pending after the entries fed. */
    public int size() {
        return chains.size();
    }

    /**
     * Fetches the entries of the pending chains that came before the entries fed, walking each
     * chain back by {@code prevOpTime}; {@code lookup} returns the stored entry at a timestamp, or
     * null when the oplog store no longer holds it (then this fails, naming the entry).
     */
    public void complete(Function<BsonTimestamp, RawBsonDocument> lookup) {
        for (Chain c : chains.values()) {
            while (c.missingBefore != null) {
                RawBsonDocument found = lookup.apply(c.missingBefore);
                if (found == null) {
                    throw new IllegalStateException("a transaction pending at the snapshot's position began with the oplog entry at "
                            + c.missingBefore + ", which the oplog store no longer holds");
                }
                OplogEntry e = OplogEntry.parse(found);
                c.entries.add(0, e.copyBytes());
                c.ts.add(0, e.ts);
                c.missingBefore = e.prevTs;
            }
        }
    }

    /** What {@link Head#restorePendingTransactions} writes: storage key to raw entry, per chain entry. */
    Map<byte[], byte[]> stored() {
        Map<byte[], byte[]> out = new LinkedHashMap<>();
        chains.forEach((key, c) -> {
            if (c.missingBefore != null) {
                throw new IllegalStateException("call complete() first: a pending transaction's first entries are missing");
            }
            for (int i = 0; i < c.entries.size(); i++) {
                out.put(PendingTransactions.storageKey(key.bytes, c.ts.get(i)), c.entries.get(i));
            }
        });
        return out;
    }
}
