package io.tidemark.applier;

import io.tidemark.shared.bson.MalformedBsonException;
import io.tidemark.shared.oplog.OpTime;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;

/**
 * Applies oplog entries to a {@link Head} faithfully: the head ends up with the same documents,
 * byte for byte, and the same catalog as the source at the last applied entry.
 *
 * <p>Entries at or before the head's applied position are skipped, so re-delivering a batch after a
 * crash changes nothing. The rest are applied in order into write batches, each committed together
 * with the position of its last entry. A batch is written on a commit thread while the next one is
 * staged (RocksDB's write, WAL and memtable, costs about as much as applying the entries), and
 * every write has finished when {@link #apply} returns. If an entry fails, its batch is discarded:
 * the head stays at the last committed position.
 *
 * <p>Not thread-safe: one applier per head, used from one thread.
 */
public final class OplogApplier {
    /** How strictly the head must match what the entries expect. */
    public enum Mode {
        /**
         * Initial sync catch-up: the head was copied while the oplog ran, so an update or delete may
         * find its document already gone (it is skipped, as MongoDB's initial sync does) and an insert
         * may find its document already there (it replaces it).
         */
        CATCH_UP,
        /**
         * Steady state: the head must match the source exactly; anything else is divergence and
         * fails with {@link HeadDivergenceException}.
         */
        STEADY
    }

    /** Outcome of one {@link #apply} call. */
    public record Result(int applied, int skipped, OpTime position) {
    }

    /** Small enough that most of an oplog-store batch is staged while an earlier part is written. */
    private static final long MAX_BATCH_BYTES = 4L << 20;
    private static final int MAX_BATCH_ENTRIES = 2_000;

    private final Head head;
    private final DeltaApplier delta = new DeltaApplier();
    private final ModifierApplier modifier = new ModifierApplier();
    private ThreadPoolExecutor readAhead;
    private ThreadPoolExecutor committer;

    public OplogApplier(Head head) {
        this.head = head;
    }

    /**
     * Applies entries given in timestamp order.
     *
     * @throws HeadDivergenceException         the head does not match what an entry expects (STEADY)
     * @throws UnsupportedOplogEntryException  an entry the applier does not understand
     * @throws IllegalArgumentException        entries out of timestamp order
     * @throws HeadClosedException             the head was closed (before or during the call)
     */
    @SuppressWarnings("try") // the lease is held for the try block, never referenced in it
    public Result apply(List<RawBsonDocument> entries, Mode mode) {
        // Held throughout: write batches name the head's column families, and the read-ahead and
        // commit threads work for this call. A close from another thread waits for it, and makes
        // its next read or commit fail (the head stays at its last committed position).
        try (LeaseGate.Lease l = head.lease()) {
            return applyLeased(entries, mode);
        }
    }

    private Result applyLeased(List<RawBsonDocument> entries, Mode mode) {
        boolean strict = mode == Mode.STEADY;
        BsonTimestamp appliedTs = head.appliedTs();
        BsonTimestamp last = appliedTs;
        OplogEntry[] parsed = new OplogEntry[entries.size()];
        for (int i = 0; i < parsed.length; i++) {
            parsed[i] = parse(entries.get(i));
        }
        int applied = 0;
        int skipped = 0;
        int inBatch = 0;
        StagedBatch batch = null;
        OplogEntry lastApplied = null;
        EntryApplier applier = null;
        DocumentPrefetcher prefetcher = new DocumentPrefetcher(head, parsed, this::readAheadPool);
        Commit writing = null;
        try {
            for (int i = 0; i < parsed.length; i++) {
                OplogEntry e = parsed[i];
                if (e.ts.compareTo(appliedTs) <= 0) {
                    skipped++;
                    continue;
                }
                if (e.ts.compareTo(last) <= 0) {
                    throw new IllegalArgumentException("oplog entries out of order: " + tsString(e.ts) + " after " + tsString(last));
                }
                if (batch == null) {
                    if (writing != null && !writing.batch.documentsOnly()) {
                        // Catalog, namespace ids and pending transactions are read from the head:
                        // a batch that changed them must be published before the next one starts.
                        writing.await();
                        writing = null;
                    }
                    StagedBatch predecessor = writing == null ? null : writing.batch;
                    batch = new StagedBatch(head, predecessor);
                    applier = new EntryApplier(batch, strict, delta, modifier);
                    prefetcher.batchStarted(batch, predecessor, i, Math.min(parsed.length, i + MAX_BATCH_ENTRIES));
                }
                prefetcher.before(i);
                try {
                    applier.applyEntry(e);
                } catch (EntryFailure f) {
                    throw publicFailure(f, f.getMessage(), e, applier.current);
                } catch (MalformedBsonException m) {
                    throw new UnsupportedOplogEntryException("malformed BSON: " + m.getMessage(), e.json(),
                            applier.current == null ? null : applier.current.json());
                }
                lastApplied = e;
                last = e.ts;
                applied++;
                inBatch++;
                if (batch.stagedBytes() >= MAX_BATCH_BYTES || inBatch >= MAX_BATCH_ENTRIES) {
                    batch.seal(OpTime.of(lastApplied.ts), lastApplied.term);
                    writing = write(batch, writing);
                    batch = null;
                    inBatch = 0;
                }
            }
            if (batch != null) {
                batch.seal(OpTime.of(lastApplied.ts), lastApplied.term);
                writing = write(batch, writing);
                batch = null;
            }
            if (writing != null) {
                writing.await();
                writing = null;
            }
            return new Result(applied, skipped, head.appliedPosition());
        } finally {
            prefetcher.close();
            if (writing != null) {
                // An entry failed while an earlier batch was being written: that batch is sound
                // and its write completes; the head ends at its position.
                writing.awaitQuietly();
            }
            if (batch != null) {
                batch.close();
            }
        }
    }

    /** Hands a sealed batch to the commit thread once the one before it is written. */
    private Commit write(StagedBatch sealed, Commit previous) {
        if (previous != null) {
            previous.await();
        }
        return new Commit(sealed, commitPool());
    }

    /** A sealed batch being written and published on the commit thread; it closes the batch. */
    private static final class Commit extends Background<Void> {
        final StagedBatch batch;

        Commit(StagedBatch batch, ThreadPoolExecutor pool) {
            super(pool.submit(() -> {
                try (batch) {
                    batch.write();
                }
                return null;
            }));
            this.batch = batch;
        }
    }

    /** Work running on one of an applier's threads; its failure is rethrown by {@link #await}. */
    static class Background<T> {
        private final Future<T> result;

        Background(Future<T> result) {
            this.result = result;
        }

        T await() {
            try {
                return result.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                awaitQuietly();
                throw new HeadException("interrupted while waiting for the head", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                if (e.getCause() instanceof Error err) {
                    throw err;
                }
                throw new HeadException("head work failed", e.getCause());
            }
        }

        /** Waits for the work to end, whatever its outcome: native work must not outlive its caller. */
        void awaitQuietly() {
            boolean interrupted = false;
            while (true) {
                try {
                    result.get();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException | RuntimeException ignored) {
                    break;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private ThreadPoolExecutor readAheadPool() {
        if (readAhead == null) {
            readAhead = pool("tidemark-head-read-ahead", DocumentPrefetcher.READERS);
        }
        return readAhead;
    }

    private ThreadPoolExecutor commitPool() {
        if (committer == null) {
            committer = pool("tidemark-head-commit", 1);
        }
        return committer;
    }

    /**
     * A pool of {@code threads} created on demand and retired when idle, so an applier needs no
     * closing.
     */
    private static ThreadPoolExecutor pool(String name, int threads) {
        ThreadPoolExecutor p = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        p.allowCoreThreadTimeOut(true);
        return p;
    }

    private static OplogEntry parse(RawBsonDocument raw) {
        OplogEntry e;
        try {
            e = OplogEntry.parse(raw);
        } catch (MalformedBsonException m) {
            String json;
            try {
                json = raw.toJson();
            } catch (RuntimeException unreadable) {
                json = "<unreadable>";
            }
            throw new UnsupportedOplogEntryException("malformed oplog entry: " + m.getMessage(), json, json);
        }
        if (e.ts == null) {
            throw new UnsupportedOplogEntryException("oplog entry without ts", e.json(), e.json());
        }
        return e;
    }

    private static RuntimeException publicFailure(EntryFailure f, String reason, OplogEntry entry, OplogEntry op) {
        String entryJson = entry.json();
        String opJson = op == null || op == entry ? entryJson : op.json();
        return f.kind == EntryFailure.Kind.DIVERGENCE
                ? new HeadDivergenceException(reason, entryJson, opJson)
                : new UnsupportedOplogEntryException(reason, entryJson, opJson);
    }

    private static String tsString(BsonTimestamp ts) {
        return "Timestamp(" + ts.getTime() + ", " + ts.getInc() + ")";
    }
}
