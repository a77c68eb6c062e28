package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import java.util.Arrays;

/**
 * Blocks known to be in the store, with their stored sizes: the references of the snapshot a
 * new one deduplicates against. A hit here replaces a store lookup (a stat or a database round
 * trip) per chunk, which is most of the cost of re-snapshotting an unchanged head.
 *
 * <p>Compact because a big head has millions of blocks: an open-addressing table of the first
 * 128 bits of each id and its stored size, 20 bytes a block (80 MB for a 1 TB head at the
 * default chunk size). 128 bits keep a false match out of reach (about 2^-64 for four million
 * blocks); a false match would silently reference the wrong data, so the prefix is not shorter.
 *
 * <p>Immutable once built, so lookups from many threads need no locking.
 */
public final class KnownBlocks {

    private static final KnownBlocks NONE = new Builder(0).build();

    private final long[] hi;
    private final long[] lo;
    private final int[] stored;
    private final int mask;
    private final int size;

    private KnownBlocks(long[] hi, long[] lo, int[] stored, int size) {
        this.hi = hi;
        this.lo = lo;
        this.stored = stored;
        this.mask = hi.length - 1;
        this.size = size;
    }

    public static KnownBlocks none() {
        return NONE;
    }

    public static Builder builder(long expected) {
        return new Builder(expected);
    }

    /** The block's stored size, or -1 when it is not known here. */
    public long storedLength(BlockId id) {
        long h = id.longAt(0);
        long l = id.longAt(1);
        for (int i = slot(h); ; i = (i + 1) & mask) {
            int s = stored[i];
            if (s < 0) {
                return -1;
            }
            if (hi[i] == h && lo[i] == l) {
                return s;
            }
        }
    }

    public int size() {
        return size;
    }

    private int slot(long h) {
        // SHA-256 bits are uniform already; the top bits index the table.
        return (int) (h >>> 33) & mask;
    }

    /** Collects ids (duplicates allowed); not thread-safe. */
    public static final class Builder {
        private long[] hi;
        private long[] lo;
        private int[] stored;
        private int size;

        private Builder(long expected) {
            allocate(capacityFor(Math.max(expected, 16)));
        }

        private static int capacityFor(long n) {
            long c = Long.highestOneBit(Math.max(2 * n, 32) - 1) << 1;
            if (c > 1 << 30) {
                throw new IllegalArgumentException("too many blocks for one table: " + n);
            }
            return (int) c;
        }

        private void allocate(int capacity) {
            hi = new long[capacity];
            lo = new long[capacity];
            stored = new int[capacity];
            Arrays.fill(stored, -1);
            size = 0;
        }

        public Builder add(BlockRef ref) {
            return add(ref.id(), ref.storedLength());
        }

        public Builder add(BlockId id, long storedLength) {
            if (2L * (size + 1) > hi.length) {
                grow();
            }
            put(id.longAt(0), id.longAt(1), (int) Math.min(Integer.MAX_VALUE, Math.max(0, storedLength)));
            return this;
        }

        private void put(long h, long l, int s) {
            int mask = hi.length - 1;
            for (int i = (int) (h >>> 33) & mask; ; i = (i + 1) & mask) {
                if (stored[i] < 0) {
                    hi[i] = h;
                    lo[i] = l;
                    stored[i] = s;
                    size++;
                    return;
                }
                if (hi[i] == h && lo[i] == l) {
                    return;
                }
            }
        }

        private void grow() {
            long[] oh = hi;
            long[] ol = lo;
            int[] os = stored;
            allocate(hi.length * 2);
            for (int i = 0; i < oh.length; i++) {
                if (os[i] >= 0) {
                    put(oh[i], ol[i], os[i]);
                }
            }
        }

        public KnownBlocks build() {
            return new KnownBlocks(hi, lo, stored, size);
        }
    }
}
