package io.tidemark.shared.blocks;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;

/**
 * Where every block of a {@link PackBlockStore} is, in memory, with the byte accounting that
 * drives reclaiming: each pack's live bytes and the store's stored bytes. Blocks whose record
 * is damaged are held apart as corrupt: not found by lookups (so a put writes them again), but
 * named by reads; their records still count as live bytes until a good copy replaces them.
 *
 * <p>Lookups need no lock; changes are made under the store's lock.
 */
final class PackIndex {

    /** The index entry: 40 bytes with compressed references. */
    record Loc(int pack, long offset, int storedLength, int uncompressedLength, long writtenAt) {
        long recordBytes() {
            return PackFormat.HEADER_BYTES + (long) storedLength;
        }
    }

    /** A block whose record is damaged, and why. */
    record Corrupt(Loc loc, String why) {
    }

    private final ConcurrentHashMap<BlockId, Loc> entries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<BlockId, Corrupt> corrupt = new ConcurrentHashMap<>();
    private final AtomicLong storedBytes = new AtomicLong();
    private final Map<Integer, Pack> packs;
    /** Told when a pack's garbage grew: it may be due for reclaiming. */
    private final Consumer<Pack> garbageGrew;

    PackIndex(Map<Integer, Pack> packs, Consumer<Pack> garbageGrew) {
        this.packs = packs;
        this.garbageGrew = garbageGrew;
    }

    Loc get(BlockId id) {
        return entries.get(id);
    }

    boolean contains(BlockId id) {
        return entries.containsKey(id);
    }

    Corrupt corrupt(BlockId id) {
        return corrupt.get(id);
    }

    int size() {
        return entries.size();
    }

    int corruptCount() {
        return corrupt.size();
    }

    long storedBytes() {
        return storedBytes.get();
    }

    static BlockInfo info(BlockId id, Loc loc) {
        return new BlockInfo(id, loc.storedLength(), Instant.ofEpochMilli(loc.writtenAt()));
    }

    Flux<BlockInfo> list() {
        return Flux.defer(() -> Flux.fromIterable(entries.entrySet())).map(e -> info(e.getKey(), e.getValue()));
    }

    /** Indexes a block, replacing (and counting as garbage) an older or corrupt record of it. */
    void put(BlockId id, Loc loc) {
        Loc previous = entries.put(id, loc);
        if (previous != null) {
            unindexed(previous);
        }
        Corrupt replaced = corrupt.remove(id);
        if (replaced != null) {
            // Written again: the damaged record is garbage now.
            lessLive(replaced.loc());
        }
        Pack p = packs.get(loc.pack());
        if (p != null) {
            p.liveBytes += loc.recordBytes();
        }
        storedBytes.addAndGet(loc.storedLength());
    }

    /** Points a block at its copy, if it is still where {@code from} says; false when it moved or went. */
    boolean move(BlockId id, Loc from, Loc to) {
        if (!entries.replace(id, from, to)) {
            return false;
        }
        Pack p = packs.get(to.pack());
        if (p != null) {
            p.liveBytes += to.recordBytes();
        }
        Pack old = packs.get(from.pack());
        if (old != null) {
            old.liveBytes -= from.recordBytes();
        }
        return true;
    }

    /** Removes a block (deleted), its record becoming garbage; the location it had, or null. */
    Loc remove(BlockId id) {
        Loc loc = entries.remove(id);
        if (loc != null) {
            unindexed(loc);
            return loc;
        }
        Corrupt c = corrupt.remove(id);
        if (c != null) {
            lessLive(c.loc());
            return c.loc();
        }
        return null;
    }

    /** A deletion record on open: drops the block if its record is in {@code cancelsPack} or older. */
    void cancel(BlockId id, int cancelsPack) {
        Loc loc = entries.get(id);
        if (loc != null && loc.pack() <= cancelsPack) {
            entries.remove(id);
            unindexed(loc);
        }
    }

    /** Holds a block as corrupt if it is still indexed at {@code loc}; false when it moved or went. */
    boolean holdCorrupt(BlockId id, Loc loc, String why) {
        if (!entries.remove(id, loc)) {
            return false;
        }
        storedBytes.addAndGet(-loc.storedLength());
        corrupt.put(id, new Corrupt(loc, why));
        return true;
    }

    private void unindexed(Loc loc) {
        storedBytes.addAndGet(-loc.storedLength());
        lessLive(loc);
    }

    private void lessLive(Loc loc) {
        Pack p = packs.get(loc.pack());
        if (p != null) {
            p.liveBytes -= loc.recordBytes();
            garbageGrew.accept(p);
        }
    }
}
