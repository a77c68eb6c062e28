package io.tidemark.groomer;

import io.tidemark.shared.blocks.BlockId;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Closes the one race a block sweep can lose: a snapshot that looks a block up, finds it, and
 * references it instead of writing it again, while the sweep decides the block is garbage.
 *
 * <p>The race. The snapshotter's block writer asks the store whether a chunk's block exists
 * ({@code stat}) and, if it does, only records a reference. The reference reaches a manifest
 * page up to 10,000 references later and becomes part of a complete snapshot later still. A
 * block that no live snapshot references (left by an expired snapshot, or by a failed attempt)
 * can be found that way when the same data comes back. A sweep that marked before the page
 * was written sees the block as garbage; deleting it would leave the finished snapshot with a
 * missing block. Reading the in-flight snapshots' pages again cannot close this (the reference
 * may still be in memory), and a grace period on the block's age cannot either (the block is old).
 *
 * <p>The fence. Every store call of the writer ({@code stat}, {@code exists}, {@code putIfAbsent})
 * goes through {@link FencedBlockStore}, which first records the id here ({@link #touch}) and
 * then, if the id is being deleted at that moment, waits for the delete to finish before asking
 * the store (which then answers "absent", so the writer writes the block anew). The sweep
 * deletes a block only through {@link #deleteUnlessTouched}: it first announces the deletion,
 * then checks the record, and deletes only if the id was not touched since the protection start.
 * Announcement and record are volatile writes each followed by a volatile read of the other
 * side's write, so in Java's total order of synchronization actions at least one side sees the
 * other: either the sweep sees the touch and keeps the block, or the writer sees the deletion,
 * waits, and writes the block itself. A writer can no longer hold a reference to a block it
 * found and that a sweep then deleted.
 *
 * <p>How far back touches count. A sweep protects every touch since {@code protectFrom}: the
 * earliest creation time of the snapshots that were in flight when it read the catalog (or that
 * read itself, if none was). Touches before that belong to snapshots that were complete at the
 * read, and those are marked from their full manifests. A snapshot's {@code createdAt} is
 * taken before it looks anything up, so all its touches come after it. Touches are kept in
 * generations of a Bloom filter (a false positive only keeps a garbage block until a later
 * sweep); a new generation starts with each sweep, and a generation is forgotten once the next
 * one began before every in-flight snapshot, with a minute of margin against clock steps. At
 * most three generations are kept (older ones are merged by OR, which only adds positives).
 * The price: a block looked up or written since the previous sweep is kept at least until the
 * next one, even if the snapshot that touched it has completed and expired meanwhile.
 *
 * <p>Scope. The fence sees the snapshots of this process, which is where the groomer runs
 * (with the heads and the snapshotter). Its times are the wall clock, as the snapshot catalog's
 * {@code createdAt} is. Catalog entries created before the fence existed belong to an earlier
 * process and are not running; their pages so far are still marked.
 */
public final class BlockFence {

    /** Allowance for wall-clock steps between a snapshot's createdAt and the fence's generation times. */
    static final long MARGIN_MS = 60_000;
    private static final int MAX_GENERATIONS = 3;
    /** 2^26 bits (8 MiB) a generation: about 0.25% false positives at 4 million touched blocks. */
    private static final int DEFAULT_BITS_LOG2 = 26;

    private final long startedAtMillis = System.currentTimeMillis();
    private final int bitsLog2;
    private final long marginMillis;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    /** Oldest first; the last one receives touches. Guarded by {@link #lock}. */
    private final ArrayDeque<Generation> generations = new ArrayDeque<>();
    private final ConcurrentHashMap<BlockId, CompletableFuture<Void>> deleting = new ConcurrentHashMap<>();

    public BlockFence() {
        this(DEFAULT_BITS_LOG2, MARGIN_MS);
    }

    /** For tests: a smaller filter, and a margin of 0 so that a sweep can follow the previous one at once. */
    BlockFence(int bitsLog2, long marginMillis) {
        if (bitsLog2 < 10 || bitsLog2 > 32) {
            throw new IllegalArgumentException("bitsLog2 out of range: " + bitsLog2);
        }
        this.bitsLog2 = bitsLog2;
        this.marginMillis = marginMillis;
        generations.add(new Generation(startedAtMillis, bitsLog2));
    }

    /** When this fence began recording; catalog entries created before it ran in another process. */
    public long startedAtMillis() {
        return startedAtMillis;
    }

    /** Allowance for wall-clock steps (see {@link #MARGIN_MS}). */
    long marginMillis() {
        return marginMillis;
    }

    /**
     * Records that a writer is about to ask the store about {@code id}; returns the deletion of
     * that id under way, which the writer must wait for before asking, or null.
     */
    CompletableFuture<Void> touch(BlockId id) {
        lock.readLock().lock();
        try {
            generations.peekLast().add(id);
        } finally {
            lock.readLock().unlock();
        }
        return deleting.get(id);
    }

    /**
     * Starts a sweep: opens a new generation and forgets the generations whose touches all
     * happened before {@code protectFromMillis} (minus the margin).
     */
    void startSweep(long protectFromMillis) {
        lock.writeLock().lock();
        try {
            generations.addLast(new Generation(System.currentTimeMillis(), bitsLog2));
            while (generations.size() > 1) {
                Iterator<Generation> it = generations.iterator();
                it.next();
                Generation second = it.next();
                // Every touch in the oldest generation happened before the second one began.
                if (second.since <= protectFromMillis - marginMillis) {
                    generations.removeFirst();
                } else {
                    break;
                }
            }
            while (generations.size() > MAX_GENERATIONS) {
                Generation oldest = generations.removeFirst();
                Generation next = generations.removeFirst();
                generations.addFirst(oldest.mergedWith(next));
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Deletes {@code id} with {@code delete} (which must block until the block is gone) unless a
     * writer touched it in the generations still kept; returns whether it deleted. Called only by
     * the sweep, one id at a time.
     */
    boolean deleteUnlessTouched(BlockId id, Runnable delete) {
        CompletableFuture<Void> mine = new CompletableFuture<>();
        if (deleting.putIfAbsent(id, mine) != null) {
            return false;
        }
        try {
            if (mightHaveBeenTouched(id)) {
                return false;
            }
            delete.run();
            return true;
        } finally {
            deleting.remove(id, mine);
            mine.complete(null);
        }
    }

    /** Whether a writer may have touched {@code id} in the kept generations (false positives possible). */
    boolean mightHaveBeenTouched(BlockId id) {
        lock.readLock().lock();
        try {
            for (Generation g : generations) {
                if (g.mightContain(id)) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.readLock().unlock();
        }
    }

    int generations() {
        lock.readLock().lock();
        try {
            return generations.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** A Bloom filter of touched ids with k = 4, indices taken from the id's own (uniform) bits. */
    private static final class Generation {
        final long since;
        final AtomicLongArray bits;
        final int mask;

        Generation(long since, int bitsLog2) {
            this.since = since;
            this.bits = new AtomicLongArray(1 << (bitsLog2 - 6));
            this.mask = (int) ((1L << bitsLog2) - 1);
        }

        private Generation(long since, AtomicLongArray bits, int mask) {
            this.since = since;
            this.bits = bits;
            this.mask = mask;
        }

        void add(BlockId id) {
            long a = id.longAt(0);
            long b = id.longAt(1);
            set((int) a);
            set((int) (a >>> 32));
            set((int) b);
            set((int) (b >>> 32));
        }

        boolean mightContain(BlockId id) {
            long a = id.longAt(0);
            long b = id.longAt(1);
            return get((int) a) && get((int) (a >>> 32)) && get((int) b) && get((int) (b >>> 32));
        }

        private void set(int hash) {
            int bit = hash & mask;
            long m = 1L << (bit & 63);
            int word = bit >>> 6;
            // A volatile read-modify-write: the ordering argument of the class rests on it.
            bits.getAndAccumulate(word, m, (x, y) -> x | y);
        }

        private boolean get(int hash) {
            int bit = hash & mask;
            return (bits.get(bit >>> 6) & (1L << (bit & 63))) != 0;
        }

        Generation mergedWith(Generation newer) {
            AtomicLongArray merged = new AtomicLongArray(bits.length());
            for (int i = 0; i < bits.length(); i++) {
                merged.set(i, bits.get(i) | newer.bits.get(i));
            }
            return new Generation(since, merged, mask);
        }
    }
}
