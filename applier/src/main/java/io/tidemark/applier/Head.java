package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.oplog.OpTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.rocksdb.RocksDBException;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;

/**
 * A head: the live replica of one backup job's replica set, in one RocksDB at a directory
 * ({@link HeadDatabase}: its storage and lifecycle). Every change and the oplog position it brings
 * the head to are written in one WriteBatch, so after a crash the head is exactly at some applied
 * position and re-applying from there is safe.
 *
 * <p>One thread writes (the applier, initial sync or a bulk load); the head publishes each commit's
 * position, catalog and counts to readers. Readers on other threads use {@link #openView()}: a
 * consistent, read-only {@link HeadView} at one applied position. Closing the head waits for the
 * readers in progress and closes their views; a reader that comes later gets a
 * {@link HeadClosedException}.
 */
@SuppressWarnings("try") // leases are held for their try block, never referenced in it
public final class Head implements HeadReader, AutoCloseable {
    /** A head opened on its own (tests, tools) gets this much; the server shares one {@link HeadMemory}. */
    private static final long PRIVATE_CACHE_BYTES = 256L << 20;
    private static final long PRIVATE_MEMTABLE_BYTES = 192L << 20;
    private static final long PRIVATE_DOCUMENT_CACHE_BYTES = 32L << 20;

    private final HeadDatabase database;
    private final HeadMemory memory;
    private final WalSyncer walSyncer;
    private final Set<HeadView> openViews = ConcurrentHashMap.newKeySet();

    private volatile HeadCatalog catalog;
    private volatile OpTime position;
    /** The election term of the entry at {@link #position}; written only with it, under the lease. */
    private volatile long term;
    private final ConcurrentHashMap<Integer, Long> counts = new ConcurrentHashMap<>();
    private PendingTransactions pending;
    private int nextNsId;
    /**
     * Identifies this head's lifetime: a head rebuilt from a new sync in the same directory gets a
     * new one, so a snapshot never reuses references from a head that was replaced.
     */
    private volatile String incarnation;
    /** The modification sequence number of the last change (see {@link MetaKeys#MOD_SEQ}); one writer thread. */
    private long modSeq;
    /**
     * This head's generation in the shared document cache: a new one whenever documents change
     * other than by a committed batch, so nothing cached before can be served after.
     */
    private volatile int cacheGeneration;
    /**
     * Held by every write that records changed keys and by each step of clearing them
     * ({@link DirtyKeys#clear}), so a clear never deletes an entry a commit just raised.
     */
    private final Object trackingLock = new Object();

    private Head(Path dir, HeadMemory memory) throws RocksDBException {
        this.memory = memory;
        this.database = new HeadDatabase(dir, memory);
        this.walSyncer = new WalSyncer(database);
        cacheGeneration = memory.documents().newGeneration();
        try {
            load();
        } catch (RocksDBException | RuntimeException e) {
            database.close(() -> true);
            throw e;
        }
    }

    /** Opens (creating if needed) the head stored at {@code dir}, with memory of its own. */
    public static Head open(Path dir) {
        return open(dir, HeadMemory.privateTo(PRIVATE_CACHE_BYTES, PRIVATE_MEMTABLE_BYTES, PRIVATE_DOCUMENT_CACHE_BYTES));
    }

    /** Opens (creating if needed) the head stored at {@code dir}, within a shared memory budget. */
    public static Head open(Path dir, HeadMemory memory) {
        try {
            return new Head(dir, memory);
        } catch (RocksDBException e) {
            if (memory.ownedByHead()) {
                memory.close();
            }
            throw new HeadException("cannot open head at " + dir, e);
        }
    }

    private void load() throws RocksDBException {
        List<NamespaceEntry> entries = new ArrayList<>();
        for (Map.Entry<byte[], byte[]> e : database.readAll(database.catalog, null)) {
            entries.add(NamespaceEntry.fromBson(new RawBsonDocument(e.getValue())));
        }
        catalog = HeadCatalog.of(entries);
        byte[] pos = database.get(database.meta, MetaKeys.POSITION);
        position = pos == null ? OpTime.ZERO : MetaKeys.decodePosition(pos);
        term = pos == null ? OplogEntry.UNKNOWN_TERM : MetaKeys.decodeTerm(pos);
        byte[] incarnationBytes = database.get(database.meta, MetaKeys.INCARNATION);
        if (incarnationBytes == null) {
            incarnationBytes = Bson.utf8(UUID.randomUUID().toString());
            database.put(database.meta, MetaKeys.INCARNATION, incarnationBytes);
        }
        incarnation = new String(incarnationBytes, java.nio.charset.StandardCharsets.UTF_8);
        byte[] seq = database.get(database.meta, MetaKeys.MOD_SEQ);
        modSeq = seq == null ? 0 : MetaKeys.decodeLong(seq);
        if (database.get(database.meta, MetaKeys.DIRTY_CLEARED) == null) {
            // Tracking starts now: nothing before this sequence is recorded (see DirtyKeys).
            database.put(database.meta, MetaKeys.DIRTY_CLEARED, MetaKeys.encodeLong(modSeq));
        }
        byte[] next = database.get(database.meta, MetaKeys.NEXT_NS_ID);
        nextNsId = next == null ? 1 : ByteBuffer.wrap(next).getInt();
        for (Map.Entry<byte[], byte[]> e : database.readFrom(database.meta, null, MetaKeys.COUNT_PREFIX)) {
            counts.put(ByteBuffer.wrap(e.getKey(), MetaKeys.COUNT_PREFIX.length, 4).getInt(), MetaKeys.decodeLong(e.getValue()));
        }
        pending = PendingTransactions.load(database.readAll(database.txns, null));
    }

    /**
     * Stamps {@code nsIds} with the next modification sequence number in {@code wb} and returns
     * it; one writer thread.
     */
    long recordModifications(WriteBatch wb, Set<Integer> nsIds) throws RocksDBException {
        long seq = ++modSeq;
        byte[] encoded = MetaKeys.encodeLong(seq);
        for (int nsId : nsIds) {
            wb.put(database.meta, MetaKeys.modified(nsId), encoded);
        }
        wb.put(database.meta, MetaKeys.MOD_SEQ, encoded);
        return seq;
    }

    /**
     * A snapshot of this head cut at {@code modificationSeq} is durably complete: forgets the
     * changes it holds (see {@link DirtyKeys}). Ignored for another incarnation (the head was
     * rebuilt meanwhile) or a sequence already cleared. Blocking: a worker, never an event loop.
     */
    @Override
    public void snapshotCompleted(String snapshotIncarnation, long modificationSeq) {
        if (!incarnation.equals(snapshotIncarnation) || modificationSeq < 0) {
            return;
        }
        try (LeaseGate.Lease l = lease()) {
            synchronized (trackingLock) {
                byte[] cleared = database.get(database.meta, MetaKeys.DIRTY_CLEARED);
                if (cleared != null && MetaKeys.decodeLong(cleared) >= modificationSeq) {
                    return;
                }
                // The mark first: entries are only ever deleted once the mark says they are covered.
                database.put(database.meta, MetaKeys.DIRTY_CLEARED, MetaKeys.encodeLong(modificationSeq));
            }
            DirtyKeys.clear(database, trackingLock, modificationSeq);
        }
    }

    /**
     * About how many keys the change tracking holds (RocksDB's estimate): what the next delta
     * snapshot reads. Blocking but cheap (a property of the column family).
     */
    public long dirtyKeysEstimate() {
        try (LeaseGate.Lease l = lease()) {
            return database.db().getLongProperty(database.dirty, "rocksdb.estimate-num-keys");
        } catch (RocksDBException e) {
            throw new HeadException("cannot read the change tracking's size", e);
        }
    }

    /** Writes {@code wb}, which records changed keys, so that no clearing step interleaves. */
    void writeTracked(org.rocksdb.WriteOptions options, WriteBatch wb) {
        synchronized (trackingLock) {
            database.write(options, wb);
        }
    }

    // ---------------------------------------------------------------- public reads

    public String incarnation() {
        return incarnation;
    }

    public Path directory() {
        return database.directory();
    }

    /** The oplog position the head reflects (ZERO before anything was applied). */
    @Override
    public OpTime appliedPosition() {
        return position;
    }

    @Override
    public int keyEncoding() {
        return database.keyEncoding();
    }

    public BsonTimestamp appliedTs() {
        return position.toBson();
    }

    public HeadCatalog catalog() {
        return catalog;
    }

    /** The current document with this _id in the namespace, if any. */
    public Optional<RawBsonDocument> document(int nsId, BsonValue id) {
        byte[] v = readDocument(DocumentKeys.key(nsId, id));
        return v == null ? Optional.empty() : Optional.of(new RawBsonDocument(v));
    }

    public Optional<RawBsonDocument> document(String ns, BsonValue id) {
        return catalog.byName(ns).flatMap(n -> document(n.id(), id));
    }

    public long documentCount(int nsId) {
        return counts.getOrDefault(nsId, 0L);
    }

    public long documentCount(String ns) {
        return catalog.byName(ns).map(n -> documentCount(n.id())).orElse(0L);
    }

    /** Document count of every namespace, by {@code db.collection}. */
    public Map<String, Long> documentCounts() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (NamespaceEntry n : catalog.namespaces()) {
            out.put(n.ns(), documentCount(n.id()));
        }
        return out;
    }

    /**
     * Bytes the head's files take on disk (SST files, WAL, manifests). A directory walk: call it
     * from a worker, never from an event loop or the head's apply thread.
     */
    public long approximateSizeOnDisk() {
        try (Stream<Path> files = Files.walk(database.directory())) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException gone) {
                    return 0; // compaction removed it while we walked
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A consistent, read-only view of the head at its current position; close it when done. Any
     * thread may open and read one while the head applies; closing the head closes it.
     *
     * @throws HeadClosedException the head is closed or closing
     */
    @Override
    public HeadView openView() {
        HeadView v;
        try (LeaseGate.Lease l = database.gate().acquire()) {
            Snapshot snapshot = database.db().getSnapshot();
            v = new HeadView(this, database, snapshot);
            // Registered under the lease: a close that has drained the leases sees every view.
            openViews.add(v);
        }
        // Oplog batches reach the WAL unsynced; sync it after taking the snapshot so that what the
        // view shows, and the modification sequence a snapshot records from it, cannot be rolled
        // back by an OS crash. A later snapshot reuses namespaces by comparing against that
        // sequence, and a head that came back with a lower one would make the comparison lie.
        try {
            walSyncer.syncNow();
        } catch (RuntimeException e) {
            v.close();
            throw e instanceof HeadClosedException ? e : new HeadException("cannot sync the head's WAL for a consistent view", e);
        }
        return v;
    }

    // ---------------------------------------------------------------- initial sync writes

    /**
     * Registers a namespace found by initial sync (listCollections/listIndexes) and returns it with
     * its assigned id. Written synced on its own batch.
     */
    public NamespaceEntry createNamespace(String db, String collection, UUID uuid, NamespaceType type,
                                          RawBsonDocument options, List<RawBsonDocument> indexes) {
        if (InternalNamespaces.isSkipped(db, collection)) {
            throw new IllegalArgumentException(db + "." + collection + " is internal and not kept in a head");
        }
        try (LeaseGate.Lease l = lease(); StagedBatch b = new StagedBatch(this)) {
            if (catalog.byName(db, collection).isPresent()) {
                throw new IllegalStateException("namespace " + db + "." + collection + " already exists");
            }
            NamespaceEntry n = new NamespaceEntry(b.allocateNsId(), db, collection, uuid, type, options, indexes, Map.of());
            b.putNamespace(n);
            b.commit(position, term);
            return n;
        }
    }

    /**
     * Sets the position an initial sync's catch-up starts from. Only allowed while nothing has been
     * applied past it.
     */
    public void initializePosition(OpTime start) {
        initializePosition(start, OplogEntry.UNKNOWN_TERM);
    }

    /** {@link #initializePosition(OpTime)} with the election term of the entry at {@code start}. */
    public void initializePosition(OpTime start, long term) {
        try (LeaseGate.Lease l = lease()) {
            if (position.compareTo(start) > 0) {
                throw new IllegalStateException("head is already at " + position + ", after " + start);
            }
            try (StagedBatch b = new StagedBatch(this)) {
                b.commit(start, term);
            }
        }
    }

    /** Streams initial-sync documents of one namespace into the head in bounded write batches. */
    public BulkLoader bulkLoader(int nsId) {
        database.gate().checkOpen();
        if (catalog.byId(nsId).isEmpty()) {
            throw new IllegalArgumentException("no namespace with id " + nsId);
        }
        return new BulkLoader(this, database, nsId);
    }

    /**
     * Loads the documents of an empty namespace that arrive in head key order (a snapshot's) as
     * ingested table files ({@link SortedLoader}): much faster than {@link #bulkLoader}.
     */
    public SortedLoader sortedLoader(int nsId) {
        database.gate().checkOpen();
        if (catalog.byId(nsId).isEmpty()) {
            throw new IllegalArgumentException("no namespace with id " + nsId);
        }
        return new SortedLoader(this, database, nsId);
    }

    /** Loads every document of {@code documents} into the namespace; returns how many were new. */
    public long bulkLoad(int nsId, Iterator<RawBsonDocument> documents) {
        try (BulkLoader loader = bulkLoader(nsId)) {
            while (documents.hasNext()) {
                loader.add(documents.next());
            }
            return loader.finish();
        }
    }

    // ---------------------------------------------------------------- a head rebuilt from a snapshot

    /**
     * Gives a head just loaded from a snapshot the transactions the snapshot's head had pending at
     * its position ({@link TransactionsInFlight}, completed), as that head kept them: the applier
     * then finds every commit, abort or next chain entry after the position as it would have.
     * Only before anything is applied past the position; written synced.
     */
    public void restorePendingTransactions(TransactionsInFlight inFlight) {
        try (LeaseGate.Lease l = lease(); WriteBatch wb = new WriteBatch()) {
            if (pending.size() > 0) {
                throw new IllegalStateException("the head already has pending transactions");
            }
            for (Map.Entry<byte[], byte[]> e : inFlight.stored().entrySet()) {
                wb.put(database.txns, e.getKey(), e.getValue());
            }
            database.write(database.syncWrite, wb);
            pending = PendingTransactions.load(database.readAll(database.txns, null));
        } catch (RocksDBException e) {
            throw new HeadException("cannot restore the pending transactions", e);
        }
    }

    /**
     * Makes a head just loaded from a snapshot continue the change tracking of the head the
     * snapshot was cut from, so that the next snapshot can be a delta on that one: the snapshot's
     * head incarnation and modification sequence become this head's, every namespace counts as
     * last changed at that sequence (the snapshot holds it exactly), and nothing is dirty (the
     * bulk load's whole-namespace marks are what the snapshot already stores). From then on the
     * applier records changes after the sequence, as the original head would have.
     *
     * <p>Sound only while this head is the job's one writer from the snapshot on: a second head of
     * the same incarnation taking snapshots would number its changes differently. Moving a job
     * takes no snapshot while it moves, and the lease's epoch fences the old owner's writes.
     */
    public void adoptSnapshotLineage(String snapshotIncarnation, long modificationSeq) {
        try (LeaseGate.Lease l = lease(); WriteBatch wb = new WriteBatch();
             org.rocksdb.RocksIterator it = database.db().newIterator(database.dirty)) {
            byte[] seq = MetaKeys.encodeLong(modificationSeq);
            for (NamespaceEntry n : catalog.namespaces()) {
                wb.put(database.meta, MetaKeys.modified(n.id()), seq);
            }
            for (it.seekToFirst(); it.isValid(); it.next()) {
                wb.delete(database.dirty, it.key());
            }
            it.status();
            wb.put(database.meta, MetaKeys.MOD_SEQ, seq);
            wb.put(database.meta, MetaKeys.DIRTY_CLEARED, seq);
            wb.put(database.meta, MetaKeys.INCARNATION, Bson.utf8(snapshotIncarnation));
            synchronized (trackingLock) {
                database.write(database.syncWrite, wb);
                modSeq = modificationSeq;
                incarnation = snapshotIncarnation;
            }
        } catch (RocksDBException e) {
            throw new HeadException("cannot take over the snapshot's change tracking", e);
        }
    }

    // ---------------------------------------------------------------- package-private, for the write path

    /**
     * A lease on the head's native objects, for the writer: an apply call holds one throughout, so
     * that its write batches (which name column families) are never staged on a freed head, and a
     * close waits for the call or cancels it at its next read or commit.
     */
    LeaseGate.Lease lease() {
        return database.gate().acquire();
    }

    HeadDatabase database() {
        return database;
    }

    PendingTransactions pending() {
        return pending;
    }

    int peekNextNsId() {
        return nextNsId;
    }

    byte[] readDocument(byte[] key) {
        return database.get(database.docs, key);
    }

    /**
     * The committed document at {@code key} if the document cache knows it: the document,
     * {@link DocumentCache#ABSENT}, or null when it must be read from the head.
     */
    byte[] cachedDocument(byte[] key) {
        return memory.documents().get(cacheGeneration, key);
    }

    /** Reads many documents in one call (RocksDB batches the lookups); null where absent. */
    List<byte[]> readDocuments(List<byte[]> keys) {
        return database.multiGet(database.docs, keys);
    }

    /**
     * Puts a sealed batch's documents in the document cache ({@code documents}: its final state of
     * each key it wrote, {@link DocumentCache#ABSENT} for deleted ones; {@code cleared} when it also
     * removed whole namespaces' documents), before the batch is written: the writer reads a batch in
     * flight before the cache, and a batch that is never written calls
     * {@link #forgetCachedDocuments()}.
     */
    void cacheDocuments(Map<ByteKey, byte[]> documents, boolean cleared) {
        DocumentCache cache = memory.documents();
        if (!cache.enabled()) {
            return;
        }
        if (cleared) {
            forgetCachedDocuments();
        }
        int generation = cacheGeneration;
        for (Map.Entry<ByteKey, byte[]> d : documents.entrySet()) {
            cache.put(generation, d.getKey().bytes, d.getValue());
        }
    }

    /**
     * Makes everything this head cached unreachable: documents changed other than by the batches
     * it caches, or it may hold some that were never written.
     */
    void forgetCachedDocuments() {
        cacheGeneration = memory.documents().newGeneration();
    }

    /** A bulk load's batch was written: the namespace now holds {@code count} documents. */
    void loaded(int nsId, long count) {
        counts.put(nsId, count);
    }

    /** Commits a sealed batch, then publishes its effects to readers. */
    void commit(WriteBatch wb, HeadCatalog newCatalog, Map<Integer, Long> newCounts, PendingTransactions newPending,
                int newNextNsId, OpTime newPosition, long newTerm) {
        writeTracked(database.groupWrite, wb);
        walSyncer.written();
        if (newCatalog != null) {
            catalog = newCatalog;
        }
        newCounts.forEach((id, c) -> {
            if (c < 0) {
                counts.remove(id);
            } else {
                counts.put(id, c);
            }
        });
        if (newPending != null) {
            pending = newPending;
        }
        nextNsId = newNextNsId;
        position = newPosition;
        term = newTerm;
    }

    void viewClosed(HeadView v) {
        openViews.remove(v);
    }

    /** Pending transactions, for diagnostics and tests: how many are waiting for their outcome. */
    public int pendingTransactionCount() {
        return pending.size();
    }

    /**
     * Compacts the whole head now and waits: for tools and benchmarks that want a head at rest
     * rather than one still compacting a fresh bulk load in the background.
     */
    public void compact() {
        database.compact();
    }

    /** Makes everything committed so far durable (a build's end, a clean shutdown). */
    public void sync() {
        walSyncer.syncNow();
    }

    /**
     * Closes the head: new reads and views fail with {@link HeadClosedException}, reads in
     * progress (on any thread) are waited for, open views are closed, and only then is RocksDB
     * freed. Safe from any thread, and more than once.
     */
    @Override
    public void close() {
        database.close(() -> {
            boolean all = true;
            for (HeadView v : new ArrayList<>(openViews)) {
                all &= v.closeAndReport();
            }
            return all;
        });
    }
}
