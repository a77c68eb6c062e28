package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import io.tidemark.shared.blocks.PackIndex.Loc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back the space of deleted blocks, a pack at a time: a sealed pack more than
 * {@value #RECLAIM_GARBAGE_SHARE} garbage has its live records copied to the active pack
 * (group-committed like new writes, keeping their write times), the index repointed, and is then
 * deleted with its index file. Deletion records are copied too while the pack holding what they
 * cancel still exists, and records held as corrupt are copied into the quarantine first. A crash
 * in between leaves a record in two packs; opening lets the newer one win.
 */
final class PackReclaimer {

    /** A sealed pack is rewritten once more than this share of it is garbage. */
    static final double RECLAIM_GARBAGE_SHARE = 0.5;
    private static final Logger LOG = LoggerFactory.getLogger(PackReclaimer.class);

    private final PackWriter store;
    private final ReentrantLock lock;
    private final PackIndex index;
    private final Map<Integer, Pack> packs;
    private final Quarantine quarantine;
    private final Path packsDir;
    /** Packs due for reclaiming; guarded by the store's lock. */
    private final ArrayDeque<Pack> due = new ArrayDeque<>();

    PackReclaimer(PackWriter store, ReentrantLock lock, PackIndex index, Map<Integer, Pack> packs,
                  Quarantine quarantine, Path packsDir) {
        this.store = store;
        this.lock = lock;
        this.index = index;
        this.packs = packs;
        this.quarantine = quarantine;
        this.packsDir = packsDir;
    }

    /** Queues a sealed pack that is mostly garbage for reclaiming. Lock held. */
    void markIfDue(Pack p) {
        if (p.sealed && !p.due && !p.reclaiming && !p.removed && p.length > 0
                && p.garbage() > RECLAIM_GARBAGE_SHARE * p.length) {
            p.due = true;
            due.add(p);
        }
    }

    void reclaimDue() throws IOException {
        while (true) {
            Pack p;
            lock.lock();
            try {
                p = due.poll();
                if (p == null) {
                    return;
                }
                p.due = false;
                if (p.reclaiming || p.removed || !p.sealed) {
                    continue;
                }
                p.reclaiming = true;
            } finally {
                lock.unlock();
            }
            reclaim(p);
        }
    }

    /** Copies a pack's live records to the active pack, then removes it. */
    private void reclaim(Pack p) throws IOException {
        long started = System.nanoTime();
        List<CompletableFuture<Boolean>> copies = new ArrayList<>();
        try {
            List<Header> headers = PackFormat.readIndex(packsDir.resolve(PackFormat.indexName(p.seq)), p.seq, p.length);
            if (headers == null) {
                headers = new PackScan(store.channel(p)).scan(0, p.length, true).headers();
            }
            for (Header h : headers) {
                PackIndex.Corrupt bad = h.block() ? index.corrupt(h.id()) : null;
                if (bad != null && bad.loc().pack() == p.seq && bad.loc().offset() == h.offset()) {
                    Path copy = quarantine.copy(store.channel(p), p.path, h.offset(), h.end() - h.offset());
                    quarantine.record(Quarantine.REMOVED_CORRUPT, p.path, h.offset(), h.end() - h.offset(), h.id(),
                            "the pack was reclaimed; the corrupt record is kept in " + copy);
                }
                if (h.block()) {
                    Loc current = index.get(h.id());
                    if (current == null || current.pack() != p.seq || current.offset() != h.offset()) {
                        continue;
                    }
                    byte[] data = new byte[h.storedLength()];
                    PackFormat.readFully(store.channel(p), ByteBuffer.wrap(data), h.offset() + PackFormat.HEADER_BYTES);
                    CompletableFuture<Boolean> done = new CompletableFuture<>();
                    // A fresh checksum: copying a damaged record must not plant a record that
                    // stops the scan of this pack, and the reads' SHA-256 check still finds it.
                    store.append(PackFormat.block(h.id(), data, h.uncompressedLength(), h.writtenAt()), data, current, done);
                    copies.add(done);
                } else if (h.cancels() != p.seq && packs.containsKey(h.cancels())) {
                    store.appendDeletion(h);
                }
            }
            store.syncIfIdle();
            CompletableFuture.allOf(copies.toArray(CompletableFuture[]::new)).join();
        } catch (IOException | RuntimeException e) {
            lock.lock();
            try {
                p.reclaiming = false;
            } finally {
                lock.unlock();
            }
            throw new IOException("reclaiming " + p.path + " failed; it stays", e);
        }
        lock.lock();
        try {
            packs.remove(p.seq);
        } finally {
            lock.unlock();
        }
        p.close();
        // No directory fsync: a crash that undoes this leaves duplicates, and the newer copies win.
        Files.deleteIfExists(p.path);
        Files.deleteIfExists(packsDir.resolve(PackFormat.indexName(p.seq)));
        LOG.info("reclaimed {}: {} live records copied, {} bytes freed in {} ms", p.path, copies.size(),
                p.length, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }
}
