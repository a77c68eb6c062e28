package io.tidemark.applier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DataBlockIndexType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A head: the live replica of one backup job's replica set, in one RocksDB at a directory.
 *
 * <p>Column families: {@code docs} (namespace id + exact _id bytes → raw BSON document),
 * {@code catalog} (namespace id → {@link NamespaceEntry}), {@code meta} (applied position, next
 * namespace id, document counts) and {@code txns} (entries of transactions not yet decided). Every
 * change and the oplog position it brings the head to are written in one WriteBatch, synced, so
 * after a crash the head is exactly at some applied position and re-applying from there is safe.
 *
 * <p>One thread writes (the applier or initial sync); any thread may read, and {@link #openView()}
 * gives a consistent snapshot for the snapshotter.
 */
public final class Head implements AutoCloseable {
    static {
        RocksDB.loadLibrary();
    }

    private static final byte[] POSITION_KEY = Bson.utf8("position");
    private static final byte[] NEXT_NS_ID_KEY = Bson.utf8("nextNsId");
    private static final byte[] COUNT_PREFIX = Bson.utf8("count/");
    /**
     * Per namespace, the modification sequence number of its last change, and the head's latest
     * one: lets snapshots skip namespaces that did not change. A sequence, not an oplog position,
     * because bulk loads change namespaces without moving the position.
     */
    private static final byte[] MODIFIED_PREFIX = Bson.utf8("modified/");
    private static final byte[] MOD_SEQ_KEY = Bson.utf8("modSeq");
    private static final byte[] INCARNATION_KEY = Bson.utf8("incarnation");
    private static final long BULK_BATCH_BYTES = 8L << 20;
    /** A head opened on its own (tests, tools) gets this much; the server shares one {@link HeadMemory}. */
    private static final long PRIVATE_CACHE_BYTES = 256L << 20;
    private static final long PRIVATE_MEMTABLE_BYTES = 192L << 20;
    private static final long PRIVATE_DOCUMENT_CACHE_BYTES = 32L << 20;
    private static final int BULK_BATCH_DOCS = 20_000;

    private final Path dir;
    private final RocksDB db;
    private final DBOptions dbOptions;
    private final List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final HeadMemory memory;
    private final LRUCache blockCache;
    private final BloomFilter bloom;
    private final ColumnFamilyHandle docs;
    private final ColumnFamilyHandle catalogCf;
    private final ColumnFamilyHandle meta;
    private final ColumnFamilyHandle txns;
    private final WriteOptions syncWrite;
    /**
     * Oplog batches are written without waiting for the disk: the position travels in the same
     * write batch as the changes, so after an OS crash RocksDB recovers a consistent prefix and
     * the rest is re-applied from the durable oplog store. The WAL is synced this often, which
     * bounds that replay without paying an fsync per batch, and on {@link #WAL_SYNCER}: an fsync
     * of a second's WAL takes long enough that the applier would wait for it.
     */
    private static final long WAL_SYNC_NANOS = 1_000_000_000L;
    private static final ExecutorService WAL_SYNCER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tidemark-head-wal-sync");
        t.setDaemon(true);
        return t;
    });
    private static final Logger LOG = LoggerFactory.getLogger(Head.class);
    private final WriteOptions groupWrite = new WriteOptions().setSync(false);
    private volatile long lastWalSync = System.nanoTime();
    private final AtomicBoolean walSyncQueued = new AtomicBoolean();
    private final WriteOptions bulkWrite;
    private final Set<HeadView> openViews = ConcurrentHashMap.newKeySet();

    private volatile HeadCatalog catalog;
    private volatile OplogPosition position;
    private final ConcurrentHashMap<Integer, Long> counts = new ConcurrentHashMap<>();
    private PendingTransactions pending;
    private int nextNsId;
    private volatile boolean closed;
    /**
     * Identifies this head's lifetime: a head rebuilt from a new sync in the same directory gets a
     * new one, so a snapshot never reuses references from a head that was replaced.
     */
    private String incarnation;
    private long modSeq;
    /**
     * This head's generation in the shared document cache: a new one whenever documents change
     * other than by a committed batch, so nothing cached before can be served after.
     */
    private volatile int cacheGeneration;

    private Head(Path dir, HeadMemory memory) throws RocksDBException {
        this.dir = dir;
        this.memory = memory;
        cacheGeneration = memory.documents().newGeneration();
        blockCache = memory.blockCache();
        bloom = new BloomFilter(10, false);
        dbOptions = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(2)
                .setBytesPerSync(1L << 20)
                .setWriteBufferManager(memory.writeBuffers())
                .setKeepLogFileNum(5);
        ColumnFamilyOptions docsOptions = tableOptions(new ColumnFamilyOptions(), 8 * 1024)
                // Every memtable insert walks the skiplist, and a deep one costs cache misses at
                // every level: 32 MiB applied $v:2 updates measurably faster than 128 MiB, whose
                // extra absorption of rewrites of hot documents saved less flush and compaction
                // work than its inserts cost (bench apply, interleaved runs).
                .setWriteBufferSize(32L << 20)
                .setMaxWriteBufferNumber(4)
                .setMinWriteBufferNumberToMerge(1)
                .setLevel0FileNumCompactionTrigger(6)
                // A memtable bloom makes the existence check of every insert cheap while it is hot.
                .setMemtablePrefixBloomSizeRatio(0.05)
                .setMemtableWholeKeyFiltering(true)
                // Recently written data (L0, L1) is what updates read back: keep it uncompressed so a
                // point read does not decompress a block; compress the colder levels.
                .setCompressionPerLevel(List.of(CompressionType.NO_COMPRESSION, CompressionType.NO_COMPRESSION,
                        CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION,
                        CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION))
                // LZ4 even at the bottom: most of a head's data lands there, so every compaction into
                // it would pay zstd's CPU cost on a machine whose cores also apply the oplog.
                .setBottommostCompressionType(CompressionType.LZ4_COMPRESSION)
                .setLevelCompactionDynamicLevelBytes(true);
        ColumnFamilyOptions small = tableOptions(new ColumnFamilyOptions(), 4 * 1024).setWriteBufferSize(4L << 20);
        cfOptions.add(small);
        cfOptions.add(docsOptions);
        List<ColumnFamilyDescriptor> descriptors = List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, small),
                new ColumnFamilyDescriptor(Bson.utf8("docs"), docsOptions),
                new ColumnFamilyDescriptor(Bson.utf8("catalog"), small),
                new ColumnFamilyDescriptor(Bson.utf8("meta"), small),
                new ColumnFamilyDescriptor(Bson.utf8("txns"), small));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        docs = handles.get(1);
        catalogCf = handles.get(2);
        meta = handles.get(3);
        txns = handles.get(4);
        syncWrite = new WriteOptions().setSync(true);
        // Bulk loads are re-delivered by the sync store after a crash, so they only need the WAL
        // synced once at the end, not per batch.
        bulkWrite = new WriteOptions().setSync(false);
        load();
    }

    private ColumnFamilyOptions tableOptions(ColumnFamilyOptions o, int blockSize) {
        BlockBasedTableConfig t = new BlockBasedTableConfig()
                .setBlockCache(blockCache)
                .setFilterPolicy(bloom)
                .setBlockSize(blockSize)
                .setCacheIndexAndFilterBlocks(true)
                .setPinL0FilterAndIndexBlocksInCache(true)
                // A hash index in each data block: a point read (every update whose document is not
                // in the document cache) finds its key without a binary search of the block.
                .setDataBlockIndexType(DataBlockIndexType.kDataBlockBinaryAndHash)
                .setDataBlockHashTableUtilRatio(0.75);
        return o.setTableFormatConfig(t);
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
        try (RocksIterator it = db.newIterator(catalogCf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                entries.add(NamespaceEntry.fromBson(new RawBsonDocument(it.value())));
            }
        }
        catalog = HeadCatalog.of(entries);
        byte[] pos = db.get(meta, POSITION_KEY);
        position = pos == null ? OplogPosition.ORIGIN : decodePosition(pos);
        byte[] incarnationBytes = db.get(meta, INCARNATION_KEY);
        if (incarnationBytes == null) {
            incarnationBytes = Bson.utf8(java.util.UUID.randomUUID().toString());
            db.put(meta, INCARNATION_KEY, incarnationBytes);
        }
        incarnation = new String(incarnationBytes, java.nio.charset.StandardCharsets.UTF_8);
        byte[] seq = db.get(meta, MOD_SEQ_KEY);
        modSeq = seq == null ? 0 : ByteBuffer.wrap(seq).getLong();
        byte[] next = db.get(meta, NEXT_NS_ID_KEY);
        nextNsId = next == null ? 1 : ByteBuffer.wrap(next).getInt();
        try (RocksIterator it = db.newIterator(meta)) {
            for (it.seek(COUNT_PREFIX); it.isValid() && startsWith(it.key(), COUNT_PREFIX); it.next()) {
                byte[] k = it.key();
                counts.put(ByteBuffer.wrap(k, COUNT_PREFIX.length, 4).getInt(), ByteBuffer.wrap(it.value()).getLong());
            }
        }
        List<Map.Entry<byte[], byte[]>> stored = new ArrayList<>();
        try (RocksIterator it = db.newIterator(txns)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                stored.add(new AbstractMap.SimpleImmutableEntry<>(it.key(), it.value()));
            }
        }
        pending = PendingTransactions.load(stored);
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    static OplogPosition decodePosition(byte[] bytes) {
        RawBsonDocument d = new RawBsonDocument(bytes);
        return new OplogPosition(d.getTimestamp("ts"), d.getInt64("t").getValue());
    }

    static byte[] encodePosition(OplogPosition p) {
        BsonDocument d = new BsonDocument("ts", p.ts()).append("t", new BsonInt64(p.term()));
        RawBsonDocument raw = new RawBsonDocument(d, new BsonDocumentCodec());
        var bb = raw.getByteBuffer();
        byte[] out = new byte[bb.limit() - bb.position()];
        System.arraycopy(bb.array(), bb.position(), out, 0, out.length);
        return out;
    }

    static byte[] modifiedKey(int nsId) {
        return ByteBuffer.allocate(MODIFIED_PREFIX.length + 4).put(MODIFIED_PREFIX).putInt(nsId).array();
    }

    static byte[] modSeqKey() {
        return MOD_SEQ_KEY;
    }

    /** Stamps {@code nsIds} with the next modification sequence number in {@code wb}; one writer thread. */
    void recordModifications(WriteBatch wb, java.util.Set<Integer> nsIds) throws RocksDBException {
        long seq = ++modSeq;
        byte[] encoded = ByteBuffer.allocate(8).putLong(seq).array();
        for (int nsId : nsIds) {
            wb.put(meta, modifiedKey(nsId), encoded);
        }
        wb.put(meta, MOD_SEQ_KEY, encoded);
    }

    static byte[] countKey(int nsId) {
        return ByteBuffer.allocate(COUNT_PREFIX.length + 4).put(COUNT_PREFIX).putInt(nsId).array();
    }

    static byte[] catalogKey(int nsId) {
        return ByteBuffer.allocate(4).putInt(nsId).array();
    }

    // ---------------------------------------------------------------- public reads

    public String incarnation() {
        return incarnation;
    }

    public Path directory() {
        return dir;
    }

    /** The oplog position the head reflects (ORIGIN before anything was applied). */
    public OplogPosition appliedPosition() {
        return position;
    }

    public BsonTimestamp appliedTs() {
        return position.ts();
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

    /** Bytes the head's files take on disk (SST files, WAL, manifests). */
    public long approximateSizeOnDisk() {
        try (Stream<Path> files = Files.walk(dir)) {
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

    /** A consistent, read-only view of the head at its current position; close it when done. */
    public HeadView openView() {
        checkOpen();
        HeadView v = new HeadView(this, db, db.getSnapshot());
        openViews.add(v);
        // Oplog batches reach the WAL unsynced; sync it after taking the snapshot so that what the
        // view shows, and the modification sequence a snapshot records from it, cannot be rolled
        // back by an OS crash. A later snapshot reuses namespaces by comparing against that
        // sequence, and a head that came back with a lower one would make the comparison lie.
        try {
            db.syncWal();
        } catch (RocksDBException e) {
            v.close();
            throw new HeadException("cannot sync the head's WAL for a consistent view", e);
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
        checkOpen();
        if (InternalNamespaces.isSkipped(db, collection)) {
            throw new IllegalArgumentException(db + "." + collection + " is internal and not kept in a head");
        }
        if (catalog.byName(db, collection).isPresent()) {
            throw new IllegalStateException("namespace " + db + "." + collection + " already exists");
        }
        try (StagedBatch b = new StagedBatch(this)) {
            NamespaceEntry n = new NamespaceEntry(b.allocateNsId(), db, collection, uuid, type, options, indexes, Map.of());
            b.putNamespace(n);
            b.commit(position);
            return n;
        }
    }

    /**
     * Sets the position an initial sync's catch-up starts from. Only allowed while nothing has been
     * applied past it.
     */
    public void initializePosition(OplogPosition start) {
        checkOpen();
        if (position.compareTo(start) > 0) {
            throw new IllegalStateException("head is already at " + position + ", after " + start);
        }
        try (StagedBatch b = new StagedBatch(this)) {
            b.commit(start);
        }
    }

    /** Streams initial-sync documents of one namespace into the head in bounded write batches. */
    public BulkLoader bulkLoader(int nsId) {
        checkOpen();
        if (catalog.byId(nsId).isEmpty()) {
            throw new IllegalArgumentException("no namespace with id " + nsId);
        }
        return new BulkLoader(nsId);
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

    /**
     * Writes initial-sync documents of one namespace. Documents are stored as given (raw bytes); a
     * document whose _id is already present replaces it, as a re-delivered slice must.
     */
    public final class BulkLoader implements AutoCloseable {
        private final int nsId;
        private WriteBatch batch = new WriteBatch();
        private final HashMap<ByteKey, Boolean> inBatch = new HashMap<>();
        private long batchBytes;
        private long added;
        private long fresh;
        private long freshInBatch;
        private boolean finished;

        private BulkLoader(int nsId) {
            this.nsId = nsId;
        }

        public void add(RawBsonDocument doc) {
            var bb = doc.getByteBuffer();
            add(bb.array(), bb.position(), bb.limit() - bb.position());
        }

        public void add(byte[] buf, int offset, int length) {
            BsonCursor c = new BsonCursor();
            if (!c.find(buf, offset, "_id")) {
                throw new IllegalArgumentException("document without _id");
            }
            byte[] key = DocumentKeys.key(nsId, c.type, buf, c.valueStart, c.valueLength);
            byte[] value = new byte[length];
            System.arraycopy(buf, offset, value, 0, length);
            try {
                ByteKey k = new ByteKey(key);
                if (inBatch.put(k, Boolean.TRUE) == null && readDocument(key) == null) {
                    freshInBatch++;
                }
                batch.put(docs, key, value);
            } catch (RocksDBException e) {
                throw new HeadException("bulk load failed", e);
            }
            added++;
            batchBytes += key.length + length;
            if (batchBytes >= BULK_BATCH_BYTES || inBatch.size() >= BULK_BATCH_DOCS) {
                flush(false);
            }
        }

        private void flush(boolean sync) {
            try {
                long newCount = documentCount(nsId) + freshInBatch;
                batch.put(meta, countKey(nsId), ByteBuffer.allocate(8).putLong(newCount).array());
                recordModifications(batch, java.util.Set.of(nsId));
                db.write(sync ? syncWrite : bulkWrite, batch);
                // A re-delivered slice may replace documents the cache holds.
                forgetCachedDocuments();
                counts.put(nsId, newCount);
                fresh += freshInBatch;
            } catch (RocksDBException e) {
                throw new HeadException("bulk load failed", e);
            } finally {
                batch.close();
                batch = new WriteBatch();
                inBatch.clear();
                batchBytes = 0;
                freshInBatch = 0;
            }
        }

        /** Writes what is left, syncs, and returns how many documents were new to the head. */
        public long finish() {
            if (!finished) {
                flush(true);
                finished = true;
            }
            return fresh;
        }

        public long added() {
            return added;
        }

        @Override
        public void close() {
            batch.close();
        }
    }

    // ---------------------------------------------------------------- package-private, for the applier

    RocksDB db() {
        return db;
    }

    ColumnFamilyHandle docsCf() {
        return docs;
    }

    ColumnFamilyHandle catalogCf() {
        return catalogCf;
    }

    ColumnFamilyHandle metaCf() {
        return meta;
    }

    ColumnFamilyHandle txnsCf() {
        return txns;
    }

    PendingTransactions pending() {
        return pending;
    }

    int peekNextNsId() {
        return nextNsId;
    }

    byte[] readDocument(byte[] key) {
        checkOpen();
        try {
            return db.get(docs, key);
        } catch (RocksDBException e) {
            throw new HeadException("read failed", e);
        }
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
        checkOpen();
        try {
            return db.multiGetAsList(Collections.nCopies(keys.size(), docs), keys);
        } catch (RocksDBException e) {
            throw new HeadException("read failed", e);
        }
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

    /** Commits a sealed batch, then publishes its effects to readers. */
    void commit(WriteBatch wb, HeadCatalog newCatalog, Map<Integer, Long> newCounts, PendingTransactions newPending,
                int newNextNsId, OplogPosition newPosition) {
        checkOpen();
        try {
            db.write(groupWrite, wb);
            if (System.nanoTime() - lastWalSync > WAL_SYNC_NANOS && walSyncQueued.compareAndSet(false, true)) {
                WAL_SYNCER.execute(this::syncWalInBackground);
            }
        } catch (RocksDBException e) {
            throw new HeadException("commit failed", e);
        }
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
    }

    void viewClosed(HeadView v) {
        openViews.remove(v);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("head at " + dir + " is closed");
        }
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
        checkOpen();
        try {
            for (ColumnFamilyHandle h : handles) {
                db.compactRange(h);
            }
        } catch (RocksDBException e) {
            throw new HeadException("cannot compact the head", e);
        }
    }

    /** Makes everything committed so far durable (a build's end, a clean shutdown). */
    public void sync() {
        checkOpen();
        try {
            db.syncWal();
            lastWalSync = System.nanoTime();
        } catch (RocksDBException e) {
            throw new HeadException("cannot sync the head's write-ahead log", e);
        }
    }

    /** The periodic WAL sync; synchronized with {@link #close()} so it never runs on a closed DB. */
    private synchronized void syncWalInBackground() {
        try {
            if (!closed) {
                long started = System.nanoTime();
                db.syncWal();
                lastWalSync = started;
            }
        } catch (RocksDBException e) {
            // The next sync tries again; a WAL that cannot be written fails the next commit.
            LOG.warn("head at {}: cannot sync the write-ahead log: {}", dir, e.getMessage());
        } finally {
            walSyncQueued.set(false);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        try {
            db.syncWal();
        } catch (RocksDBException e) {
            // Closing anyway: what the WAL holds is replayed from the oplog store if it was lost.
        }
        closed = true;
        for (HeadView v : new ArrayList<>(openViews)) {
            v.close();
        }
        syncWrite.close();
        groupWrite.close();
        bulkWrite.close();
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        dbOptions.close();
        for (ColumnFamilyOptions o : cfOptions) {
            o.close();
        }
        bloom.close();
        if (memory.ownedByHead()) {
            memory.close();
        }
    }

    /** Reads all entries of a column family (small families only: catalog, meta). */
    static List<Map.Entry<byte[], byte[]>> readAll(RocksDB db, ColumnFamilyHandle cf, ReadOptions ro) {
        List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
        try (RocksIterator it = db.newIterator(cf, ro)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                out.add(new AbstractMap.SimpleImmutableEntry<>(it.key(), it.value()));
            }
        }
        return Collections.unmodifiableList(out);
    }
}
