package io.tidemark.groomer;

import io.tidemark.shared.blocks.BlockId;

/**
 * The mark of a sweep: the blocks some live or in-flight snapshot references, as the first 64
 * bits of each id in an open-addressing hash set. Eight bytes a block at most half full: about
 * 64 MB for the four million blocks of a 1 TB head, whatever the number of references to them
 * (snapshots mostly share blocks). Two different blocks with the same 64-bit prefix only make
 * the sweep keep a garbage block; a live block can never look unmarked.
 *
 * <p>Not thread-safe; marking streams references into it one at a time.
 */
final class LiveBlocks {

    private long[] table = new long[1 << 10];
    private int size;
    /** 0 is the empty-slot marker; a prefix that is 0 is kept here. */
    private boolean hasZero;

    void add(BlockId id) {
        long key = id.longAt(0);
        if (key == 0) {
            hasZero = true;
            return;
        }
        if (2L * (size + 1) > table.length) {
            grow();
        }
        if (insert(table, key)) {
            size++;
        }
    }

    boolean contains(BlockId id) {
        long key = id.longAt(0);
        if (key == 0) {
            return hasZero;
        }
        int mask = table.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long v = table[i];
            if (v == 0) {
                return false;
            }
            if (v == key) {
                return true;
            }
        }
    }

    long size() {
        return size + (hasZero ? 1 : 0);
    }

    private static int slot(long key, int mask) {
        // SHA-256 bits are uniform: the top bits index the table.
        return (int) (key >>> 34) & mask;
    }

    private static boolean insert(long[] table, long key) {
        int mask = table.length - 1;
        for (int i = slot(key, mask); ; i = (i + 1) & mask) {
            long v = table[i];
            if (v == 0) {
                table[i] = key;
                return true;
            }
            if (v == key) {
                return false;
            }
        }
    }

    private void grow() {
        if (table.length >= 1 << 30) {
            throw new IllegalStateException("too many blocks to mark in memory: " + size);
        }
        long[] old = table;
        table = new long[old.length * 2];
        for (long v : old) {
            if (v != 0) {
                insert(table, v);
            }
        }
    }
}
