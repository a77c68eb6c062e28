package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import io.tidemark.shared.blocks.PackIndex.Loc;
import io.tidemark.shared.util.Directories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Pack writing for a {@link PackBlockStore}: appends to the one active pack, the group commit that
 * makes them durable (see the store's class comment), rolling over to a new pack, sealing full
 * ones, and deletion records. Its lock guards the active pack and what is pending, and also every
 * {@link Pack}'s mutable state and the {@link PackIndex}; the reader, the reclaimer and opening
 * take the same lock.
 */
final class PackWriter {

    private static final Logger LOG = LoggerFactory.getLogger(PackWriter.class);
    private static final byte[] NO_DATA = new byte[0];
    /** Records up to this size are copied into one reused direct buffer and written with one call. */
    private static final int WRITE_BUFFER_MAX = 4 << 20;
    private static final int HEADER_BYTES = PackFormat.HEADER_BYTES;

    /** A record appended but not yet covered by an fsync. */
    private record Pending(BlockId id, Pack pack, Loc loc, Loc replaces, CompletableFuture<Boolean> done) {
    }

    private final Path root;
    private final Path packsDir;
    private final Scheduler io;
    private final long packBytes;
    private final Map<Integer, Pack> packs;
    private final PackIndex index;
    /** Told of every pack sealed, so that one already mostly garbage gets reclaimed. */
    private final Consumer<Pack> sealedPacks;
    private final PackPuts puts;
    private final AtomicLong fsyncs = new AtomicLong();
    private volatile boolean closed;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition syncIdle = lock.newCondition();
    // Guarded by lock:
    private Pack active;
    private int nextSeq = 1;
    private List<Pending> pending = new ArrayList<>();
    private List<Pack> toSeal = new ArrayList<>();
    private boolean syncing;
    private ByteBuffer writeBuffer = ByteBuffer.allocateDirect(0);

    PackWriter(Path root, Path packsDir, Scheduler io, long packBytes, Map<Integer, Pack> packs, PackIndex index,
               Consumer<Pack> sealedPacks) {
        this.root = root;
        this.packsDir = packsDir;
        this.io = io;
        this.packBytes = packBytes;
        this.packs = packs;
        this.index = index;
        this.sealedPacks = sealedPacks;
        this.puts = new PackPuts(index, io, this);
    }

    /** The store's lock (see the class comment). */
    ReentrantLock lock() {
        return lock;
    }

    boolean closed() {
        return closed;
    }

    long fsyncs() {
        return fsyncs.get();
    }

    /** Where appending goes on after opening: the next pack number, and the pack still taking records (or null). Lock held. */
    void resume(int nextSeq, Pack active) {
        this.nextSeq = nextSeq;
        this.active = active;
    }

    /**
     * Refuses further writes and waits (up to 30 s) for a running group commit to finish; false
     * when the writer was already closed.
     */
    boolean close() {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (syncing && System.nanoTime() < deadline) {
                syncIdle.awaitNanos(deadline - System.nanoTime());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        return true;
    }

    /** Stores a block unless it is there or being stored; see {@link PackPuts}. */
    Mono<Boolean> put(BlockId id, byte[] compressed, int uncompressedLength) {
        return puts.put(id, compressed, uncompressedLength);
    }

    /** Appends a record that becomes visible (or repointed) once an fsync covers it. */
    void append(Header h, byte[] data, Loc replaces, CompletableFuture<Boolean> done) throws IOException {
        lock.lock();
        try {
            Loc loc = writeRecord(h, data);
            pending.add(new Pending(h.id(), active, loc, replaces, done));
        } finally {
            lock.unlock();
        }
    }

    /** Becomes the syncer if none runs; otherwise the running one picks up what is pending. */
    void syncIfIdle() {
        lock.lock();
        try {
            if (syncing || pending.isEmpty() && toSeal.isEmpty()) {
                return;
            }
            syncing = true;
        } finally {
            lock.unlock();
        }
        syncLoop();
    }

    /** Writes a record at the end of the active pack, starting a new pack first if it is full. */
    private Loc writeRecord(Header h, byte[] data) throws IOException {
        if (closed) {
            throw new IllegalStateException("block store closed: " + root);
        }
        long recordBytes = HEADER_BYTES + (long) data.length;
        if (active == null || active.length > 0 && active.length + recordBytes > packBytes) {
            rollOver();
        }
        Pack p = active;
        ByteBuffer buf;
        if (recordBytes <= WRITE_BUFFER_MAX) {
            if (writeBuffer.capacity() < recordBytes) {
                writeBuffer = ByteBuffer.allocateDirect((int) Math.min(WRITE_BUFFER_MAX, Math.max(recordBytes, 1 << 20)));
            }
            buf = writeBuffer.clear();
        } else {
            buf = ByteBuffer.allocate((int) recordBytes);
        }
        Header at = new Header(h.block(), h.id(), p.length, data.length, h.uncompressedLength(), h.writtenAt(),
                h.cancels(), h.dataCrc());
        PackFormat.putHeader(buf, at);
        buf.put(data).flip();
        long pos = p.length;
        try {
            FileChannel ch = p.channel(closed);
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
        } catch (IOException | RuntimeException e) {
            retire(p, e);
            throw e;
        }
        p.records.add(at);
        p.length += recordBytes;
        return new Loc(p.seq, at.offset(), data.length, h.uncompressedLength(), h.writtenAt());
    }

    /** Hands the active pack to the syncer for sealing and starts the next one. */
    private void rollOver() throws IOException {
        if (active != null) {
            toSeal.add(active);
            active = null;
        }
        int seq = nextSeq++;
        Pack p = new Pack(seq, packsDir.resolve(PackFormat.packName(seq)));
        p.channel = FileChannel.open(p.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        p.records = new ArrayList<>();
        p.journal = PackJournal.open(packsDir.resolve(PackFormat.journalName(seq)));
        packs.put(seq, p);
        Directories.fsync(packsDir);
        active = p;
    }

    /**
     * One fsync per round for everything appended before the round began (and the packs'
     * predecessors being sealed); then those records are published and their puts answered.
     * Runs until nothing is pending.
     */
    private void syncLoop() {
        while (true) {
            List<Pending> batch;
            List<Pack> sealing;
            Map<Pack, List<Header>> journaling = new HashMap<>();
            lock.lock();
            try {
                if (pending.isEmpty() && toSeal.isEmpty()) {
                    syncing = false;
                    syncIdle.signalAll();
                    return;
                }
                batch = pending;
                pending = new ArrayList<>();
                sealing = toSeal;
                toSeal = new ArrayList<>();
                // Every record written so far is covered by this round's fsync, so it may be journaled after it.
                for (Pending e : batch) {
                    Pack p = e.pack();
                    if (p.records != null && p.journal != null && !sealing.contains(p) && !journaling.containsKey(p)) {
                        journaling.put(p, new ArrayList<>(p.records.subList(p.journaled, p.records.size())));
                        p.journaled = p.records.size();
                    }
                }
            } finally {
                lock.unlock();
            }
            try {
                syncRound(batch, sealing, journaling);
            } catch (RuntimeException | Error e) {
                // A bug, not an I/O error: fail this round's puts, and let the next append sync again.
                lock.lock();
                try {
                    syncing = false;
                    syncIdle.signalAll();
                } finally {
                    lock.unlock();
                }
                batch.forEach(p -> settle(p, new IOException("group commit failed", e)));
                throw e;
            }
        }
    }

    private void syncRound(List<Pending> batch, List<Pack> sealing, Map<Pack, List<Header>> journaling) {
        Set<Pack> touched = new LinkedHashSet<>(sealing);
        batch.forEach(e -> touched.add(e.pack()));
        Map<Pack, Exception> failed = new HashMap<>();
        for (Pack p : touched) {
            try {
                p.channel(closed).force(false);
                fsyncs.incrementAndGet();
            } catch (IOException | RuntimeException e) {
                failed.put(p, e);
            }
        }
        // An answered put is journaled: the journal's end is the acknowledged position of the pack.
        journaling.forEach((p, headers) -> {
            if (!failed.containsKey(p)) {
                try {
                    p.journal.append(headers);
                } catch (IOException | RuntimeException e) {
                    failed.put(p, e);
                }
            }
        });
        List<Pack> sealed = new ArrayList<>();
        for (Pack p : sealing) {
            if (!failed.containsKey(p)) {
                try {
                    PackFormat.writeIndex(packsDir, p.seq, p.length, p.records);
                    p.closeJournal();
                    Files.deleteIfExists(packsDir.resolve(PackFormat.journalName(p.seq)));
                    sealed.add(p);
                } catch (IOException e) {
                    // Its records are durable and journaled; the next opener reads the journal instead.
                    LOG.warn("cannot write the index of {}: {}", p.path, e.toString());
                }
            }
        }
        lock.lock();
        try {
            // Published before the sealed packs are judged: a pack sealed in the round that publishes
            // its own records would otherwise look all garbage (nothing live in it yet), be reclaimed,
            // and its copies, sealed the same way, again and again.
            for (Pending e : batch) {
                if (!failed.containsKey(e.pack())) {
                    publish(e);
                }
            }
            for (Pack p : sealed) {
                p.sealed = true;
                p.records = null;
                sealedPacks.accept(p);
            }
            failed.forEach((p, e) -> retire(p, e));
        } finally {
            lock.unlock();
        }
        for (Pending e : batch) {
            Exception error = failed.get(e.pack());
            settle(e, error == null ? null : new IOException("fsync of " + e.pack().path + " failed", error));
        }
    }

    /** Enters a durable record in the index; the caller holds the lock. */
    private void publish(Pending e) {
        if (e.replaces() == null) {
            index.put(e.id(), e.loc());
            return;
        }
        if (index.move(e.id(), e.replaces(), e.loc())) {
            return;
        }
        // Deleted while it was copied: the copy is garbage, and must not come back on reopen.
        try {
            writeRecord(PackFormat.deletion(e.id(), e.loc().pack(), System.currentTimeMillis()), NO_DATA);
        } catch (IOException | RuntimeException ex) {
            LOG.warn("cannot record the deletion of a copied block {}: {}", e.id(), ex.toString());
        }
    }

    private void settle(Pending e, Exception error) {
        if (e.replaces() == null) {
            puts.finished(e.id(), e.done());
        }
        if (error == null) {
            e.done().complete(true);
        } else {
            e.done().completeExceptionally(error);
        }
    }

    /**
     * A pack that could not be written or synced takes no more records and is never sealed by
     * this process: the next opener scans it, so only records that check out are indexed. Its
     * records still pending fail. Lock held.
     */
    private void retire(Pack p, Exception cause) {
        LOG.warn("block store pack {} failed ({}); writing on in a new pack", p.path, cause.toString());
        if (active == p) {
            active = null;
        }
        toSeal.remove(p);
        p.records = null;
        List<Pending> failing = new ArrayList<>();
        pending.removeIf(e -> e.pack() == p && failing.add(e));
        IOException error = new IOException("writing " + p.path + " failed", cause);
        // settle outside the lock: their callbacks may call back into the store
        io.schedule(() -> failing.forEach(e -> settle(e, error)));
    }

    /** Appends a deletion record, not synced (see the store's class comment). */
    void appendDeletion(Header h) throws IOException {
        lock.lock();
        try {
            writeRecord(h, NO_DATA);
        } finally {
            lock.unlock();
        }
    }

    /** A pack's channel, failing with {@link java.nio.channels.ClosedChannelException} once the store is closed. */
    FileChannel channel(Pack p) throws IOException {
        return p.channel(closed);
    }
}
