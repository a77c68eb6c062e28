package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackIndex.Loc;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
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
 *
 * <p>This class is the facade: appends and the group commit are {@link PackWriter}'s, verified
 * reads {@link PackReader}'s, opening {@link PackLoader}'s, and every one of them shares the
 * writer's lock.
 */
public final class PackBlockStore implements BlockStore, AutoCloseable {

    public static final long DEFAULT_PACK_BYTES = 256L << 20;
    /** Size of a record's header in a pack, before its stored bytes. */
    public static final int HEADER_BYTES = PackFormat.HEADER_BYTES;

    private static final Logger LOG = LoggerFactory.getLogger(PackBlockStore.class);

    /** Where a block's record is, as the test and repair tools need it. */
    public record Location(Path pack, long recordOffset, long dataOffset, int storedLength) {
    }

    private final Path root;
    private final Path packsDir;
    private final Scheduler io;

    private final ConcurrentHashMap<Integer, Pack> packs = new ConcurrentHashMap<>();
    private final PackIndex index = new PackIndex(packs, p -> reclaimer().markIfDue(p));
    private final Quarantine quarantine;
    private final PackWriter writer;
    private final PackReader reader;
    private final PackReclaimer reclaimer;
    private final PackLoader loader;
    private final AtomicReference<CompletableFuture<Void>> opening = new AtomicReference<>();
    private PackLock dirLock; // guarded by the writer's lock

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
        this.quarantine = new Quarantine(this.root);
        this.writer = new PackWriter(this.root, packsDir, io, packBytes, packs, index, p -> reclaimer().markIfDue(p));
        this.reader = new PackReader(packs, index, quarantine, writer);
        this.reclaimer = new PackReclaimer(writer, writer.lock(), index, packs, quarantine, packsDir);
        this.loader = new PackLoader(this.root, packsDir, packBytes, packs, index, quarantine, reclaimer);
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
            return opened().then(Mono.defer(() -> writer.put(id, compressed, uncompressedLength)));
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
        return opened().then(onIo(() -> reader.read(id)));
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
        return writer.fsyncs();
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
        if (!writer.close()) {
            return;
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
            if (writer.closed()) {
                return Mono.error(new IllegalStateException("block store closed: " + root));
            }
            return f.isDone() && !f.isCompletedExceptionally() ? Mono.empty() : PackPuts.answerOf(f, () -> { });
        });
    }

    private void deleteBlocking(BlockId id) throws IOException {
        ReentrantLock lock = writer.lock();
        lock.lock();
        try {
            Loc loc = index.remove(id);
            if (loc == null) {
                return;
            }
            try {
                writer.appendDeletion(PackFormat.deletion(id, loc.pack(), System.currentTimeMillis()));
            } catch (IOException e) {
                LOG.warn("cannot record the deletion of {}; a restart brings it back for the next sweep: {}", id, e.toString());
            }
        } finally {
            lock.unlock();
        }
        // The deletion record may have filled the active pack: its successor gets sealed.
        writer.syncIfIdle();
        reclaimer.reclaimDue();
    }

    private void openBlocking() throws IOException {
        ReentrantLock lock = writer.lock();
        lock.lock();
        try {
            if (writer.closed()) {
                throw new IllegalStateException("block store closed: " + root);
            }
            dirLock = PackLock.acquire(root, packsDir);
            PackLoader.Loaded loaded = loader.load();
            writer.resume(loaded.nextSeq(), loaded.active());
        } finally {
            lock.unlock();
        }
    }
}
