package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.DataBlockIndexType;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RocksDB under a head, its lifecycle: options, column families, opening and closing. Column
 * families: {@code docs.v2} (a {@link DocumentKeys} key → raw BSON document; a head still holding
 * encoding-1 keys in {@code docs} is migrated on open by {@link KeyMigration}), {@code catalog}
 * (namespace id → {@link NamespaceEntry}), {@code meta} (applied position, next namespace id,
 * document counts, see {@link MetaKeys}) and {@code txns} (entries of transactions not yet decided).
 *
 * <p>Every call here holds a lease of {@link #gate()} while it is in RocksDB, and so do the head's
 * views and the applier's staging of write batches (they reference the column families). Closing
 * refuses new leases, waits for the held ones, closes the views, and only then frees the native
 * objects: a reader racing a close gets a {@link HeadClosedException}, never freed memory.
 */
@SuppressWarnings("try") // leases are held for their try block, never referenced in it
final class HeadDatabase {
    private static final Logger LOG = LoggerFactory.getLogger(HeadDatabase.class);

    static {
        RocksDB.loadLibrary();
    }

    private final Path dir;
    private final HeadMemory memory;
    private final LeaseGate gate;
    private final RocksDB db;
    private final DBOptions dbOptions;
    private final List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final BloomFilter bloom;
    final ColumnFamilyHandle docs;
    final ColumnFamilyHandle catalog;
    final ColumnFamilyHandle meta;
    final ColumnFamilyHandle txns;
    /**
     * Document keys (and bare namespace ids) changed since the last complete snapshot, each with
     * the modification sequence that last dirtied it (see {@link DirtyKeys}).
     */
    final ColumnFamilyHandle dirty;
    /** Single writes that must be durable on return (namespace creation, a bulk load's end). */
    final WriteOptions syncWrite = new WriteOptions().setSync(true);
    /** Oplog batches: durable through the WAL syncs of {@link WalSyncer}. */
    final WriteOptions groupWrite = new WriteOptions().setSync(false);
    /**
     * Bulk loads are re-delivered by the sync store after a crash, so they only need the WAL synced
     * once at the end, not per batch.
     */
    final WriteOptions bulkWrite = new WriteOptions().setSync(false);

    HeadDatabase(Path dir, HeadMemory memory) throws RocksDBException {
        this.dir = dir;
        this.memory = memory;
        this.gate = new LeaseGate("head at " + dir);
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
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>(List.of(
                new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, small),
                new ColumnFamilyDescriptor(Bson.utf8(KeyMigration.FAMILY), docsOptions),
                new ColumnFamilyDescriptor(Bson.utf8("catalog"), small),
                new ColumnFamilyDescriptor(Bson.utf8("meta"), small),
                new ColumnFamilyDescriptor(Bson.utf8("txns"), small),
                // Created on first open by an older head (createMissingColumnFamilies): such a head
                // has no record of what changed, so it starts with every namespace marked (Head#load).
                new ColumnFamilyDescriptor(Bson.utf8("dirty"), small)));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            freeOptions();
            throw new UncheckedIOException(e);
        }
        try {
            boolean legacy = hasFamily(dir, KeyMigration.LEGACY_FAMILY);
            if (legacy) {
                descriptors.add(new ColumnFamilyDescriptor(Bson.utf8(KeyMigration.LEGACY_FAMILY), small));
            }
            db = RocksDB.open(dbOptions, dir.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            freeOptions();
            throw e;
        }
        docs = handles.get(1);
        catalog = handles.get(2);
        meta = handles.get(3);
        txns = handles.get(4);
        dirty = handles.get(5);
        try {
            // Present only in a head of key encoding 1; always after the families above.
            ColumnFamilyHandle legacyDocs = handles.size() > 6 ? handles.get(6) : null;
            long began = System.nanoTime();
            if (legacyDocs != null) {
                LOG.info("head at {}: rewriting its documents from key encoding 1 to {} (resumes if interrupted)", dir,
                        DocumentKeys.ENCODING);
            }
            long copied = KeyMigration.run(db, legacyDocs, docs, meta, catalog);
            if (legacyDocs != null) {
                LOG.info("head at {}: key encoding {} ({} documents rewritten in {} s)", dir, DocumentKeys.ENCODING, copied,
                        (System.nanoTime() - began) / 1_000_000_000);
                handles.remove(legacyDocs);
                legacyDocs.close();
            }
        } catch (RocksDBException | RuntimeException e) {
            closeNative();
            throw e;
        }
    }

    /** Whether the database at {@code dir} (if any) has the column family {@code name}. */
    private static boolean hasFamily(Path dir, String name) throws RocksDBException {
        if (!Files.exists(dir.resolve("CURRENT"))) {
            return false;
        }
        try (Options o = new Options()) {
            for (byte[] f : RocksDB.listColumnFamilies(o, dir.toString())) {
                if (java.util.Arrays.equals(f, Bson.utf8(name))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The document key encoding of this head: always {@link DocumentKeys#ENCODING} once open. */
    int keyEncoding() {
        return KeyMigration.decode(get(meta, MetaKeys.KEY_ENCODING));
    }

    private ColumnFamilyOptions tableOptions(ColumnFamilyOptions o, int blockSize) {
        BlockBasedTableConfig t = new BlockBasedTableConfig()
                .setBlockCache(memory.blockCache())
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

    /** The documents' column family options: what files ingested into it are written with. */
    ColumnFamilyOptions docsOptions() {
        return cfOptions.get(1);
    }

    Path directory() {
        return dir;
    }

    /** The lease every use of this database's native objects holds. */
    LeaseGate gate() {
        return gate;
    }

    /** The database itself, for callers holding a lease (views, write batches). */
    RocksDB db() {
        return db;
    }

    byte[] get(ColumnFamilyHandle cf, byte[] key) {
        try (LeaseGate.Lease l = gate.acquire()) {
            return db.get(cf, key);
        } catch (RocksDBException e) {
            throw new HeadException("read failed", e);
        }
    }

    /** Reads many keys of one family in one call (RocksDB batches the lookups); null where absent. */
    List<byte[]> multiGet(ColumnFamilyHandle cf, List<byte[]> keys) {
        try (LeaseGate.Lease l = gate.acquire()) {
            return db.multiGetAsList(Collections.nCopies(keys.size(), cf), keys);
        } catch (RocksDBException e) {
            throw new HeadException("read failed", e);
        }
    }

    void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        try (LeaseGate.Lease l = gate.acquire()) {
            db.put(cf, key, value);
        } catch (RocksDBException e) {
            throw new HeadException("write failed", e);
        }
    }

    void write(WriteOptions options, WriteBatch batch) {
        try (LeaseGate.Lease l = gate.acquire()) {
            db.write(options, batch);
        } catch (RocksDBException e) {
            throw new HeadException("commit failed", e);
        }
    }

    /** Makes everything written so far durable. */
    void syncWal() {
        try (LeaseGate.Lease l = gate.acquire()) {
            db.syncWal();
        } catch (RocksDBException e) {
            throw new HeadException("cannot sync the head's write-ahead log", e);
        }
    }

    void compact() {
        try (LeaseGate.Lease l = gate.acquire()) {
            for (ColumnFamilyHandle h : handles) {
                db.compactRange(h);
            }
        } catch (RocksDBException e) {
            throw new HeadException("cannot compact the head", e);
        }
    }

    /** Every entry of a column family (small families only: catalog, meta, txns), at {@code ro}. */
    List<Map.Entry<byte[], byte[]>> readAll(ColumnFamilyHandle cf, ReadOptions ro) {
        return readFrom(cf, ro, null);
    }

    /** The entries of a column family from {@code prefix} on while their keys start with it. */
    List<Map.Entry<byte[], byte[]>> readFrom(ColumnFamilyHandle cf, ReadOptions ro, byte[] prefix) {
        List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
        try (LeaseGate.Lease l = gate.acquire();
             RocksIterator it = ro == null ? db.newIterator(cf) : db.newIterator(cf, ro)) {
            for (start(it, prefix); it.isValid(); it.next()) {
                byte[] k = it.key();
                if (prefix != null && !startsWith(k, prefix)) {
                    break;
                }
                out.add(new AbstractMap.SimpleImmutableEntry<>(k, it.value()));
            }
        }
        return Collections.unmodifiableList(out);
    }

    private static void start(RocksIterator it, byte[] prefix) {
        if (prefix == null) {
            it.seekToFirst();
        } else {
            it.seek(prefix);
        }
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

    /**
     * Waits for every lease, closes the views with {@code closeViews} (each waits for its own
     * readers; false if one could not), syncs the WAL and frees everything native. Idempotent; safe from any thread that
     * holds no lease.
     */
    void close(java.util.function.BooleanSupplier closeViews) {
        gate.close(() -> {
            if (!closeViews.getAsBoolean()) {
                // A view kept a reader past the wait: its iterators still use the database.
                return;
            }
            try {
                db.syncWal();
            } catch (RocksDBException e) {
                // Closing anyway: what the WAL holds is replayed from the oplog store if it was lost.
            }
            closeNative();
            if (memory.ownedByHead()) {
                memory.close();
            }
        });
    }

    private void closeNative() {
        syncWrite.close();
        groupWrite.close();
        bulkWrite.close();
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        freeOptions();
    }

    private void freeOptions() {
        dbOptions.close();
        for (ColumnFamilyOptions o : cfOptions) {
            o.close();
        }
        bloom.close();
    }
}
