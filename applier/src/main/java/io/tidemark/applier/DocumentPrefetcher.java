package io.tidemark.applier;

import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.MalformedBsonException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * Reads, ahead of the entries being applied, the documents their plain inserts, updates and
 * deletes look up: in windows, from the document cache where it has them and with multiGets on
 * the read-ahead threads for the rest (a point read per entry costs a native call and a separate
 * lookup each; batched, RocksDB shares the work). A window is read while the one before it is
 * applied; windows start small at the first entry and double up to {@link #MAX_WINDOW}, so the
 * applier waits for few reads.
 *
 * <p>What a window read is right for: documents as committed, or as the batches the reading batch
 * consults write them (its own overlay and its predecessor's, see {@link StagedBatch}). Keys those
 * batches wrote are left out, and a window is used by the batch it was planned in, or by the next
 * one when that one follows it directly; anything else is thrown away. Anything not read ahead
 * (operations inside transactions, namespaces created later) is simply read when needed.
 */
final class DocumentPrefetcher {
    /**
     * Threads a window's reads are split over. The applier waits for a window it has reached
     * before its read ends; with the commit thread and RocksDB's flushes and compactions running
     * too, one reader gets too small a share of the cores to stay ahead.
     */
    static final int READERS = 2;
    /** Below this many reads, a window's are not worth splitting. */
    private static final int SPLIT_READS = 64;
    private static final int MAX_WINDOW = 1_000;
    private static final int FIRST_WINDOW = 32;

    private final Head head;
    private final OplogEntry[] entries;
    private final Supplier<? extends ExecutorService> pool;
    private final BsonCursor cursor = new BsonCursor();
    private StagedBatch batch;
    private int batchEnd;
    private int prefetchedTo;
    private Window ahead;

    DocumentPrefetcher(Head head, OplogEntry[] entries, Supplier<? extends ExecutorService> pool) {
        this.head = head;
        this.entries = entries;
        this.pool = pool;
    }

    /**
     * A batch starts at entry {@code first} and ends at {@code end} at the latest;
     * {@code predecessor} is the sealed batch it reads through, or null.
     */
    void batchStarted(StagedBatch started, StagedBatch predecessor, int first, int end) {
        if (ahead != null && !(ahead.from == first && predecessor != null && ahead.plannedIn == predecessor)) {
            ahead.reads.awaitQuietly();
            ahead = null;
        }
        batch = started;
        batchEnd = end;
        prefetchedTo = first;
    }

    /** Makes sure the documents entry {@code i} looks up are in the batch, and reads on ahead. */
    void before(int i) {
        if (i < prefetchedTo) {
            return;
        }
        int window;
        if (ahead != null && ahead.from == i) {
            ahead.loadInto(batch, ahead.reads.await());
            prefetchedTo = ahead.to;
            window = ahead.to - ahead.from;
        } else {
            // Nothing read ahead (a batch's start): read a small window here and let the windows
            // read ahead grow from it.
            window = FIRST_WINDOW;
            prefetchedTo = Math.min(batchEnd, i + window);
            Window now = plan(i, prefetchedTo);
            now.loadInto(batch, now.missing.isEmpty() ? List.of() : head.readDocuments(now.missing));
        }
        ahead = null;
        int from = prefetchedTo;
        if (from < entries.length) {
            // A window never spans two batches: at this batch's end it is the next one's first.
            int end = from < batchEnd ? batchEnd : Math.min(entries.length, from + MAX_WINDOW);
            ahead = plan(from, Math.min(end, from + Math.min(MAX_WINDOW, 2 * window)));
            ahead.startReading();
        }
    }

    /** Waits for a read still running: native reads must not outlive the apply call. */
    void close() {
        if (ahead != null) {
            ahead.reads.awaitQuietly();
            ahead = null;
        }
    }

    private Window plan(int from, int to) {
        Window w = new Window(batch, from, to);
        for (int i = from; i < to; i++) {
            byte[] key = keyOf(entries[i]);
            if (key == null || batch.isWritten(key)) {
                continue;
            }
            byte[] cached = head.cachedDocument(key);
            if (cached != null) {
                w.cachedKeys.add(key);
                w.cachedValues.add(cached);
            } else {
                w.missing.add(key);
            }
        }
        return w;
    }

    private byte[] keyOf(OplogEntry e) {
        if (e.op == null || e.op.length() != 1 || e.ui == null) {
            return null;
        }
        int doc = switch (e.op.charAt(0)) {
            case 'i', 'd' -> e.o;
            case 'u' -> e.o2;
            default -> -1;
        };
        if (doc < 0) {
            return null;
        }
        NamespaceEntry n = batch.byUuid(e.ui);
        if (n == null) {
            return null;
        }
        try {
            if (!cursor.find(e.buf, doc, "_id")) {
                return null;
            }
        } catch (MalformedBsonException m) {
            return null; // reported when the entry is applied
        }
        return DocumentKeys.key(n.id(), cursor.type, e.buf, cursor.valueStart, cursor.valueLength);
    }

    /** The documents of entries {@code [from, to)}: those the cache had, and a read of the rest. */
    private final class Window {
        final StagedBatch plannedIn;
        final int from;
        final int to;
        final List<byte[]> cachedKeys = new ArrayList<>();
        final List<byte[]> cachedValues = new ArrayList<>();
        final List<byte[]> missing = new ArrayList<>();
        OplogApplier.Background<List<byte[]>> reads;

        Window(StagedBatch plannedIn, int from, int to) {
            this.plannedIn = plannedIn;
            this.from = from;
            this.to = to;
        }

        void startReading() {
            CompletableFuture<List<byte[]>> all;
            if (missing.isEmpty()) {
                all = CompletableFuture.completedFuture(List.of());
            } else if (missing.size() < SPLIT_READS) {
                all = CompletableFuture.supplyAsync(() -> head.readDocuments(missing), pool.get());
            } else {
                int half = missing.size() / 2;
                CompletableFuture<List<byte[]>> first = CompletableFuture.supplyAsync(() -> head.readDocuments(missing.subList(0, half)), pool.get());
                CompletableFuture<List<byte[]>> second = CompletableFuture.supplyAsync(
                        () -> head.readDocuments(missing.subList(half, missing.size())), pool.get());
                // Both ended, whatever their outcome, before this one does: a native read must not
                // outlive the wait for it.
                all = CompletableFuture.allOf(first, second).thenApply(ended -> {
                    List<byte[]> both = new ArrayList<>(missing.size());
                    both.addAll(first.join());
                    both.addAll(second.join());
                    return both;
                });
            }
            reads = new OplogApplier.Background<>(all);
        }

        void loadInto(StagedBatch b, List<byte[]> read) {
            b.prefetched(cachedKeys, cachedValues);
            b.prefetched(missing, read);
        }
    }
}
