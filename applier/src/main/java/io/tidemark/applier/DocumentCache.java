package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Documents heads recently committed, shared by every head of a process, so that an update finds
 * the document it changes without a RocksDB read. A read costs a memtable skiplist search per
 * memtable plus index and data block searches per level (several microseconds, more than applying
 * the update); a hit here costs a hash probe and a copy.
 *
 * <p>The cache holds no object references: each segment is a byte[] arena used as a ring plus an
 * index of longs, behind its own lock. A map of byte[] values was tried first and G1's upkeep of
 * references from old entries to young documents cost more than the reads it saved.
 *
 * <p>An entry is rewritten in place when the new version fits the space of the old one (space is
 * reserved with some slack for documents that grow), otherwise a new one is appended; appending
 * overwrites the ring's oldest entries, so eviction is first in, first out. A cached entry can say
 * "absent" (a deleted document), which is as much committed state as a document is.
 *
 * <p>Entries carry their head's generation. A head takes a new one whenever its documents change
 * other than through entries put here (opening, bulk loads, removing a namespace's documents
 * wholesale), which invalidates everything it cached before without touching it.
 */
final class DocumentCache {
    /** What {@link #get} returns for a document known to be absent; never a real BSON document. */
    static final byte[] ABSENT = new byte[0];

    private static final int HEADER = 16;
    private static final int WAYS = 4;
    /** Arena bytes per index slot: documents are rarely smaller than this. */
    private static final int BYTES_PER_SLOT = 96;
    private static final int SEGMENTS = 16;
    /** A segment's arena starts this small and doubles as it fills, up to the segment's share. */
    private static final int FIRST_ARENA_BYTES = 64 * 1024;

    private final Segment[] segments;
    private final AtomicInteger generations = new AtomicInteger();
    /** Counted by every applier thread on every lookup: adders, not one contended atomic. */
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    /** A cache of about {@code bytes} in total; 0 disables it. */
    DocumentCache(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("document cache size must not be negative: " + bytes);
        }
        int perSegment = (int) Math.min(Integer.MAX_VALUE - 64, bytes / SEGMENTS);
        segments = new Segment[perSegment < 64 * 1024 ? 0 : SEGMENTS];
        for (int i = 0; i < segments.length; i++) {
            segments[i] = new Segment(perSegment);
        }
    }

    boolean enabled() {
        return segments.length > 0;
    }

    /** A generation no entry carries yet. */
    int newGeneration() {
        return generations.incrementAndGet();
    }

    /** The committed document at {@code key}, {@link #ABSENT}, or null when not cached. */
    byte[] get(int generation, byte[] key) {
        if (segments.length == 0) {
            return null;
        }
        long h = hash(generation, key);
        byte[] v = segment(h).get(h, generation, key);
        (v == null ? misses : hits).increment();
        return v;
    }

    /** Records the committed state of {@code key}: a document, or {@link #ABSENT}. */
    void put(int generation, byte[] key, byte[] value) {
        if (segments.length == 0) {
            return;
        }
        long h = hash(generation, key);
        segment(h).put(h, generation, key, value);
    }

    long hits() {
        return hits.sum();
    }

    long misses() {
        return misses.sum();
    }

    private Segment segment(long h) {
        return segments[(int) (h >>> 60) & (SEGMENTS - 1)];
    }

    private static long hash(int generation, byte[] key) {
        long h = 0xcbf29ce484222325L ^ generation;
        for (byte b : key) {
            h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        }
        // FNV mixes low bits poorly into high ones; segments and fingerprints use the high bits.
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        return h ^ (h >>> 33);
    }

    /**
     * One lock's worth of the cache. Arena entries: allocated length, generation, key length, value
     * length (-1: absent), key, value. Index slots: (position + 1) << 16 | 16-bit fingerprint, 0 when
     * empty; a position is a running byte count, so an entry is intact while it lies within the
     * last {@code capacity} bytes written. The arena grows (doubling, keeping offsets) until it
     * reaches the capacity, before the ring first wraps, so small heads cost little heap.
     */
    private static final class Segment {
        private final int capacity;
        private final int buckets;
        private byte[] arena;
        private long[] slots;
        private long written;

        Segment(int capacity) {
            this.capacity = capacity;
            this.buckets = Integer.highestOneBit(Math.max(1, capacity / BYTES_PER_SLOT / WAYS));
        }

        synchronized byte[] get(long h, int generation, byte[] key) {
            int way = find(h, generation, key);
            if (way < 0) {
                return null;
            }
            int at = offset(position(slots[way]));
            int valueLength = Bson.readInt(arena, at + 12);
            return valueLength < 0 ? ABSENT : Arrays.copyOfRange(arena, at + HEADER + key.length, at + HEADER + key.length + valueLength);
        }

        synchronized void put(long h, int generation, byte[] key, byte[] value) {
            if (arena == null) {
                // Allocated on first use: heads opened only to be read never pay for it.
                arena = new byte[Math.min(capacity, FIRST_ARENA_BYTES)];
                slots = new long[buckets * WAYS];
            }
            int valueLength = value == ABSENT ? -1 : value.length;
            int need = HEADER + key.length + Math.max(0, valueLength);
            int way = find(h, generation, key);
            if (way >= 0) {
                int at = offset(position(slots[way]));
                if (Bson.readInt(arena, at) >= need) {
                    writeValue(at, key.length, value, valueLength);
                    return;
                }
            }
            int reserve = (need + need / 8 + 15) & ~15;
            if (reserve > capacity / 8) {
                // Too large to be worth a slot; the old version, if cached, must not outlive it.
                if (way >= 0) {
                    slots[way] = 0;
                }
                return;
            }
            if (way < 0) {
                way = victim(h);
            }
            if (offset(written) + reserve > capacity) {
                written += capacity - offset(written); // entries never wrap: skip the ring's tail
            }
            long position = written;
            written += reserve;
            int at = offset(position);
            if (at + reserve > arena.length) {
                // Only before the first wrap: offsets are positions then, and stay valid in a copy.
                arena = Arrays.copyOf(arena, Math.min(capacity, Math.max(2 * arena.length, at + reserve)));
            }
            Bson.writeInt(arena, at, reserve);
            Bson.writeInt(arena, at + 4, generation);
            Bson.writeInt(arena, at + 8, key.length);
            System.arraycopy(key, 0, arena, at + HEADER, key.length);
            writeValue(at, key.length, value, valueLength);
            slots[way] = (position + 1) << 16 | fingerprint(h);
        }

        /** The slot holding {@code key}, or -1. */
        private int find(long h, int generation, byte[] key) {
            if (slots == null) {
                return -1;
            }
            int first = bucket(h) * WAYS;
            long fingerprint = fingerprint(h);
            for (int way = first; way < first + WAYS; way++) {
                long s = slots[way];
                if (s == 0 || (s & 0xFFFF) != fingerprint || !intact(s)) {
                    continue;
                }
                int at = offset(position(s));
                if (Bson.readInt(arena, at + 4) == generation && Bson.readInt(arena, at + 8) == key.length
                        && Arrays.equals(arena, at + HEADER, at + HEADER + key.length, key, 0, key.length)) {
                    return way;
                }
            }
            return -1;
        }

        /** An empty or overwritten slot of the bucket, else the one whose entry is oldest. */
        private int victim(long h) {
            int first = bucket(h) * WAYS;
            int oldest = first;
            for (int way = first; way < first + WAYS; way++) {
                long s = slots[way];
                if (s == 0 || !intact(s)) {
                    return way;
                }
                if (position(s) < position(slots[oldest])) {
                    oldest = way;
                }
            }
            return oldest;
        }

        private void writeValue(int at, int keyLength, byte[] value, int valueLength) {
            Bson.writeInt(arena, at + 12, valueLength);
            if (valueLength > 0) {
                System.arraycopy(value, 0, arena, at + HEADER + keyLength, valueLength);
            }
        }

        private boolean intact(long slot) {
            return position(slot) >= written - capacity;
        }

        private int bucket(long h) {
            return (int) h & (buckets - 1);
        }

        private static long fingerprint(long h) {
            return (h >>> 40) & 0xFFFF;
        }

        private static long position(long slot) {
            return (slot >>> 16) - 1;
        }

        private int offset(long position) {
            return (int) (position % capacity);
        }
    }
}
