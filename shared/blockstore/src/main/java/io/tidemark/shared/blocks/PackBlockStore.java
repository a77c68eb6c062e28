package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import io.tidemark.shared.blocks.PackIndex.Loc;
import io.tidemark.shared.util.Directories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Blocks appended to pack files {@code root/packs/<16 hex digits>.pack}, with an index of
 * every block in memory. A file per block costs a create, a link and two fsyncs per block,
 * about 3 CPU-seconds per GB of snapshot on ext4 in a VM; here many blocks share one fsync.
 * The record format is in {@link PackFormat}.
 *
 * <p>Durability. Appends are positional writes to the one active pack, serialized by a lock.
 * A put completes only after an fsync that started after its write, and only then is the
 * block entered in the index, so {@link #exists} and {@link #stat} never report a block a
 * crash can lose. Group commit: whoever appends while no fsync runs starts one and keeps
 * syncing until nothing is pending; appends made meanwhile wait for its next round, so a
 * burst of puts costs one fsync per round rather than per block. A new pack's name is made
 * durable (directory fsync) before any record in it is acknowledged.
 *
 * <p>Packs roll over at {@code packBytes}. A pack that will not grow again is sealed: its
 * record headers go to {@code <seq>.idx} (temporary file, fsync, rename), so opening reads
 * the index files instead of whole packs. The active pack has a {@link PackJournal}, appended
 * and fsynced by each group commit before its puts are answered: a start reads it instead of
 * the pack, and its end is the acknowledged position. {@link PackRecovery} reads what neither
 * describes, and decides what may be cut (a torn tail past the acknowledged position) and what
 * is damage to quarantine.
 *
 * <p>Damage. A block whose record turns out damaged (found by a start's scan, or by a read) is
 * held as corrupt: out of the index, so {@link #exists} and {@link #stat} do not offer it for
 * deduplication and the next put writes it again, while {@link #read} names it corrupt. Every
 * finding goes to the {@link Quarantine} log first, which also keeps blocks corrupt across
 * restarts.
 *
 * <p>Deletion (only the garbage collector deletes) drops the block from the index and appends
 * a deletion record, not fsynced: a delete a crash undoes only leaves garbage for the next
 * sweep. A pack's garbage is its bytes the index no longer points at; the delete that makes a
 * sealed pack mostly garbage reclaims it ({@link PackReclaimer}). Readers that race with a
 * reclaim retry with the new location.
 *
 * <p>Opening loads every index (or scans) on the {@code blockingIo} scheduler the first time
 * any method is used; constructing the store does no I/O. Every method returns without
 * blocking its caller; file I/O, decompression and hashing run on {@code blockingIo}.
 * Lookups ({@code exists}, {@code stat}, {@code list}, {@code storedBytes}) are answered from
 * memory. One process at a time: a lock file {@code packs/lock} refuses a second opener.
 *
 * <p>Memory: the index costs about 155 bytes of heap per block (measured: the {@link BlockId} with its
 * 32-byte array, a 40-byte location record and a hash-map node), so 1 M blocks (80 GB stored
 * at the default chunking) take about 155 MB. Each pack read since the start keeps one open
 * file descriptor.
 */
public final class PackBlockStore implements BlockStore, AutoCloseable {

    public static final long DEFAULT_PACK_BYTES = 256L << 20;
    /** Size of a record's header in a pack, before its stored bytes. */
    public static final int HEADER_BYTES = PackFormat.HEADER_BYTES;

    private static final Logger LOG = LoggerFactory.getLogger(PackBlockStore.class);
    private static final byte[] NO_DATA = new byte[0];
    private static final int EMPTY_CRC = PackFormat.crc(NO_DATA);
    /** Records up to this size are copied into one reused direct buffer and written with one call. */
    private static final int WRITE_BUFFER_MAX = 4 << 20;
    private static final int READ_ATTEMPTS = 8;

    /** Where a block's record is, as the test and repair tools need it. */
    public record Location(Path pack, long recordOffset, long dataOffset, int storedLength) {
    }

    /** A record appended but not yet covered by an fsync. */
    private record Pending(BlockId id, Pack pack, Loc loc, Loc replaces, CompletableFuture<Boolean> done) {
    }

    private final Path root;
    private final Path packsDir;
    private final Scheduler io;
    private final long packBytes;

    private final ConcurrentHashMap<Integer, Pack> packs = new ConcurrentHashMap<>();
    private final PackIndex index = new PackIndex(packs, p -> reclaimer().markIfDue(p));
    private final PackReclaimer reclaimer;
    private final Quarantine quarantine;
    /** Puts under way in this process, so a concurrent put of the same block waits for the first. */
    private final ConcurrentHashMap<BlockId, CompletableFuture<Boolean>> writing = new ConcurrentHashMap<>();
    private final AtomicReference<CompletableFuture<Void>> opening = new AtomicReference<>();
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
    private PackLock dirLock;

    public PackBlockStore(Path root, Scheduler blockingIo) {
        this(root, blockingIo, DEFAULT_PACK_BYTES);
    }

    /** @param packBytes size at which a pack is sealed and the next one started */
    public PackBlockStore(Path root, Scheduler blockingIo, long packBytes) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath();
        this.packsDir = this.root.resolve("packs");
        this.io = Objects.requireNonNull(blockingIo, "blockingIo");
        if (packBytes <= HEADER_BYTES) {
            throw new IllegalArgumentException("packBytes must exceed a record header: " + packBytes);
        }
        this.packBytes = packBytes;
        this.quarantine = new Quarantine(this.root);
        this.reclaimer = new PackReclaimer(this, lock, index, packs, quarantine, packsDir);
    }

    private PackReclaimer reclaimer() {
        return reclaimer;
    }

    public Path root() {
        return root;
    }

    @Override
    public Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength) {
        return Mono.defer(() -> {
            BlockCodec.checkFrame(id, compressed, uncompressedLength);
            return opened().then(Mono.defer(() -> put(id, compressed, uncompressedLength)));
        });
    }

    @Override
    public Mono<Boolean> exists(BlockId id) {
        return opened().then(Mono.fromSupplier(() -> index.contains(id)));
    }

    @Override
    public Mono<BlockInfo> stat(BlockId id) {
        return opened().then(Mono.fromSupplier(() -> {
            Loc loc = index.get(id);
            return loc == null ? null : PackIndex.info(id, loc);
        }));
    }

    @Override
    public Mono<byte[]> read(BlockId id) {
        return opened().then(onIo(() -> readBlocking(id)));
    }

    @Override
    public Flux<BlockInfo> list() {
        return opened().thenMany(index.list());
    }

    @Override
    public Mono<Void> delete(BlockId id) {
        return opened().then(onIo(() -> {
            deleteBlocking(id);
            return null;
        }));
    }

    @Override
    public Mono<Long> storedBytes() {
        return opened().then(Mono.fromSupplier(index::storedBytes));
    }

    /** Where the block's record is; empty when it is not stored. */
    public Mono<Location> locate(BlockId id) {
        return opened().then(Mono.fromSupplier(() -> {
            Loc loc = index.get(id);
            Pack p = loc == null ? null : packs.get(loc.pack());
            return p == null ? null : new Location(p.path, loc.offset(), loc.offset() + HEADER_BYTES, loc.storedLength());
        }));
    }

    /** How many fsyncs of packs this store has issued: far fewer than puts under concurrent load. */
    public long fsyncs() {
        return fsyncs.get();
    }

    /** Pack files currently on disk. */
    public int packCount() {
        return packs.size();
    }

    /**
     * Waits for a running group commit, then closes every file and releases the lock file.
     * Calls after this fail; the active pack is left without an index and is scanned and
     * appended to by the next opener.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
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
        for (Pack p : packs.values()) {
            p.close();
            p.closeJournal();
        }
        try {
            if (dirLock != null) {
                dirLock.close();
            }
        } catch (IOException e) {
            LOG.warn("releasing the lock of the block store {}: {}", root, e.toString());
        }
    }

    // ------------------------------------------------------------------ scheduling

    /**
     * {@code work} on the I/O scheduler, answering there, and detached from cancellation: a
     * cancelled subscriber must not interrupt the thread, since an interrupt closes the
     * shared pack channel it is reading or writing.
     */
    private <T> Mono<T> onIo(Callable<T> work) {
        return Mono.create(sink -> io.schedule(() -> {
            try {
                sink.success(work.call());
            } catch (Throwable e) {
                sink.error(e);
            }
        }));
    }

    /**
     * Subscribes to {@code done} before {@code start} runs, so the answer comes from the thread
     * that completes it (the I/O scheduler) even when that is quick; cancelling does not
     * cancel the future, which other puts may share.
     */
    private static <T> Mono<T> answerOf(CompletableFuture<T> done, Runnable start) {
        return Mono.create(sink -> {
            done.whenComplete((v, e) -> {
                if (e != null) {
                    sink.error(e);
                } else {
                    sink.success(v);
                }
            });
            start.run();
        });
    }

    private Mono<Void> opened() {
        return Mono.defer(() -> {
            CompletableFuture<Void> f = opening.get();
            if (f == null) {
                CompletableFuture<Void> mine = new CompletableFuture<>();
                if (opening.compareAndSet(null, mine)) {
                    try {
                        io.schedule(() -> {
                            try {
                                openBlocking();
                                mine.complete(null);
                            } catch (Throwable e) {
                                LOG.error("cannot open the block store {}", root, e);
                                mine.completeExceptionally(e);
                            }
                        });
                    } catch (RuntimeException e) {
                        mine.completeExceptionally(e);
                    }
                }
                f = opening.get();
            }
            if (closed) {
                return Mono.error(new IllegalStateException("block store closed: " + root));
            }
            return f.isDone() && !f.isCompletedExceptionally() ? Mono.empty() : answerOf(f, () -> { });
        });
    }

    // ------------------------------------------------------------------ put and group commit

    private Mono<Boolean> put(BlockId id, byte[] compressed, int uncompressedLength) {
        if (index.contains(id)) {
            return Mono.just(false);
        }
        CompletableFuture<Boolean> mine = new CompletableFuture<>();
        CompletableFuture<Boolean> other = writing.putIfAbsent(id, mine);
        if (other != null) {
            // Its durability answers this put too; if it fails, this one tries itself.
            return answerOf(other, () -> { }).map(x -> false)
                    .onErrorResume(e -> Mono.defer(() -> put(id, compressed, uncompressedLength)));
        }
        if (index.contains(id)) {
            // published between the first check and the claim
            writing.remove(id, mine);
            mine.complete(false);
            return Mono.just(false);
        }
        // The put's answer is the future, not this task: the task may go on syncing other
        // puts' records long after this one is durable.
        return answerOf(mine, () -> {
            try {
                io.schedule(() -> {
                    try {
                        append(block(id, compressed, uncompressedLength, System.currentTimeMillis()), compressed, null,
                                mine);
                        syncIfIdle();
                    } catch (Throwable e) {
                        writing.remove(id, mine);
                        mine.completeExceptionally(e);
                    }
                });
            } catch (RuntimeException e) {
                writing.remove(id, mine);
                mine.completeExceptionally(e);
            }
        });
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
            for (Pack p : sealed) {
                p.sealed = true;
                p.records = null;
                reclaimer.markIfDue(p);
            }
            for (Pending e : batch) {
                if (!failed.containsKey(e.pack())) {
                    publish(e);
                }
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
            writeRecord(deletion(e.id(), e.loc().pack(), System.currentTimeMillis()), NO_DATA);
        } catch (IOException | RuntimeException ex) {
            LOG.warn("cannot record the deletion of a copied block {}: {}", e.id(), ex.toString());
        }
    }

    private void settle(Pending e, Exception error) {
        if (e.replaces() == null) {
            writing.remove(e.id(), e.done());
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

    /** Writes a deletion record copied from a reclaimed pack (not synced: see the class comment). */
    void copyDeletion(Header h) throws IOException {
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

    private static Header deletion(BlockId id, int cancelsPack, long at) {
        return new Header(false, id, -1, 0, 0, at, cancelsPack, EMPTY_CRC);
    }

    static Header block(BlockId id, byte[] compressed, int uncompressedLength, long writtenAt) {
        return new Header(true, id, -1, compressed.length, uncompressedLength, writtenAt, 0, PackFormat.crc(compressed));
    }

    // ------------------------------------------------------------------ read

    private byte[] readBlocking(BlockId id) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Loc loc = index.get(id);
            if (loc == null) {
                PackIndex.Corrupt c = index.corrupt(id);
                if (c != null) {
                    throw new CorruptBlockException(id, "quarantined: " + c.why());
                }
                throw new BlockNotFoundException(id);
            }
            Pack p = packs.get(loc.pack());
            try {
                if (p == null) {
                    throw new ClosedChannelException();
                }
                return readRecord(id, p, loc);
            } catch (CorruptBlockException e) {
                quarantine(id, p, loc, e.getMessage());
                throw e;
            } catch (ClosedChannelException e) {
                // A reclaim moved the record and closed the old pack: look it up again.
                if (attempt >= READ_ATTEMPTS) {
                    throw new IOException("block " + id.hex() + ": pack " + loc.pack() + " keeps disappearing", e);
                }
            }
        }
    }

    private byte[] readRecord(BlockId id, Pack p, Loc loc) throws IOException {
        FileChannel ch = p.channel(closed);
        ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES);
        byte[] data = new byte[loc.storedLength()];
        try {
            PackFormat.readFully(ch, head, loc.offset());
            PackFormat.readFully(ch, ByteBuffer.wrap(data), loc.offset() + HEADER_BYTES);
        } catch (java.io.EOFException e) {
            throw new CorruptBlockException(id, p.path + " ends before its record at " + loc.offset());
        }
        Header h = PackFormat.parseHeader(head.flip(), loc.offset());
        if (h == null || !h.block() || !h.id().equals(id) || h.storedLength() != loc.storedLength()
                || h.uncompressedLength() != loc.uncompressedLength()) {
            throw new CorruptBlockException(id, "the record header at " + loc.offset() + " of " + p.path
                    + (h == null ? " is damaged" : " does not match the index (" + (h.block() ? "block " : "deletion of ")
                    + h.id().hex() + ", " + h.storedLength() + " bytes)"));
        }
        return BlockCodec.decodeVerified(id, data, loc.uncompressedLength());
    }

    /**
     * Takes a block whose record turned out damaged out of the index, so lookups stop reporting it
     * and the next put of it writes it again, and logs it in the quarantine.
     */
    private void quarantine(BlockId id, Pack p, Loc loc, String why) {
        lock.lock();
        try {
            if (!index.holdCorrupt(id, loc, why)) {
                return; // moved or deleted meanwhile
            }
        } finally {
            lock.unlock();
        }
        try {
            quarantine.record(Quarantine.CORRUPT_BLOCK, p.path, loc.offset(), loc.recordBytes(), id, why);
        } catch (IOException e) {
            LOG.warn("cannot log the corrupt block {} in the quarantine: {}", id.hex(), e.toString());
        }
    }

    // ------------------------------------------------------------------ delete and reclaim

    private void deleteBlocking(BlockId id) throws IOException {
        lock.lock();
        try {
            Loc loc = index.remove(id);
            if (loc == null) {
                return;
            }
            try {
                writeRecord(deletion(id, loc.pack(), System.currentTimeMillis()), NO_DATA);
            } catch (IOException e) {
                LOG.warn("cannot record the deletion of {}; a restart brings it back for the next sweep: {}", id, e.toString());
            }
        } finally {
            lock.unlock();
        }
        // The deletion record may have filled the active pack: its successor gets sealed.
        syncIfIdle();
        reclaimer.reclaimDue();
    }

    // ------------------------------------------------------------------ open

    private void openBlocking() throws IOException {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("block store closed: " + root);
            }
            dirLock = PackLock.acquire(root, packsDir);
            quarantine.load();
            TreeMap<Integer, Path> packFiles = new TreeMap<>();
            List<Path> sideFiles = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(packsDir)) {
                for (Path f : entries) {
                    String name = f.getFileName().toString();
                    if (name.endsWith(PackFormat.TEMP_SUFFIX)) {
                        Files.deleteIfExists(f); // an index or journal rewrite a crash cut short
                    } else if (PackFormat.seqOf(name, PackFormat.PACK_SUFFIX) > 0) {
                        packFiles.put(PackFormat.seqOf(name, PackFormat.PACK_SUFFIX), f);
                    } else if (PackFormat.seqOf(name, PackFormat.INDEX_SUFFIX) > 0
                            || PackFormat.seqOf(name, PackFormat.JOURNAL_SUFFIX) > 0) {
                        sideFiles.add(f);
                    }
                }
            }
            for (Path f : sideFiles) {
                String name = f.getFileName().toString();
                int seq = Math.max(PackFormat.seqOf(name, PackFormat.INDEX_SUFFIX),
                        PackFormat.seqOf(name, PackFormat.JOURNAL_SUFFIX));
                if (!packFiles.containsKey(seq)) {
                    Files.deleteIfExists(f); // its pack was reclaimed: it describes no data
                }
            }
            List<Quarantine.CorruptRecord> found = new ArrayList<>(quarantine.corruptRecords());
            int scanned = 0;
            for (Map.Entry<Integer, Path> f : packFiles.entrySet()) {
                scanned += load(f.getKey(), f.getValue(), f.getKey().equals(packFiles.lastKey()), found) ? 1 : 0;
            }
            nextSeq = packFiles.isEmpty() ? 1 : packFiles.lastKey() + 1;
            for (Quarantine.CorruptRecord c : found) {
                Loc loc = index.get(c.block());
                if (loc != null && loc.pack() == c.pack() && loc.offset() == c.offset()) {
                    index.holdCorrupt(c.block(), loc, "its record at " + c.offset() + " of "
                            + PackFormat.packName(c.pack()) + " is damaged (see " + quarantine.dir() + ")");
                }
            }
            packs.values().forEach(reclaimer::markIfDue);
            LOG.info("block store {}: {} blocks, {} stored bytes in {} packs ({} scanned), {} blocks quarantined as corrupt",
                    root, index.size(), index.storedBytes(), packs.size(), scanned, index.corruptCount());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Loads one pack's records into the index, from its index file, or from its journal and a
     * scan of what the journal does not cover; returns whether any of it was scanned. The newest
     * pack goes on taking records if it has room; any other is sealed. Damaged records found are
     * added to {@code corruptFound}.
     */
    private boolean load(int seq, Path path, boolean newest, List<Quarantine.CorruptRecord> corruptFound)
            throws IOException {
        Pack p = new Pack(seq, path);
        p.length = Files.size(path);
        Path indexFile = packsDir.resolve(PackFormat.indexName(seq));
        Path journalFile = packsDir.resolve(PackFormat.journalName(seq));
        List<Header> headers = PackFormat.readIndex(indexFile, seq, p.length);
        boolean scanned = false;
        if (headers != null) {
            Files.deleteIfExists(journalFile); // superseded by the index written after it
            p.sealed = true;
        } else {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            p.channel = ch;
            PackRecovery.Recovered r = new PackRecovery(quarantine, seq, p.path, ch, p.length)
                    .recover(indexFile, journalFile, corruptFound);
            headers = r.headers();
            scanned = r.scanned();
            p.length = r.length();
            if (p.length == 0 && !newest) {
                // a pack started just before a crash, with nothing (acknowledged) in it
                ch.close();
                Files.delete(path);
                Files.deleteIfExists(journalFile);
                return true;
            }
            if (newest && p.length < packBytes && !r.wasSealed()) {
                p.records = new ArrayList<>(headers);
                if (r.journalStale()) {
                    PackJournal.rewrite(packsDir, seq, headers);
                }
                p.journal = PackJournal.open(journalFile);
                p.journaled = headers.size();
                active = p;
            } else {
                PackFormat.writeIndex(packsDir, seq, p.length, headers);
                Files.deleteIfExists(journalFile);
                p.sealed = true;
            }
        }
        packs.put(seq, p);
        for (Header h : headers) {
            if (h.block()) {
                index.put(h.id(), new Loc(seq, h.offset(), h.storedLength(), h.uncompressedLength(), h.writtenAt()));
            } else {
                // Cancels the block's record in that pack or an older one, never a newer record.
                index.cancel(h.id(), h.cancels());
            }
        }
        return scanned;
    }
}
