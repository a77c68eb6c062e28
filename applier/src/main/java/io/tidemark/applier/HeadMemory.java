package io.tidemark.applier;

import io.tidemark.shared.config.TidemarkConfig;
import org.rocksdb.LRUCache;
import org.rocksdb.WriteBufferManager;

/**
 * Memory shared by every head in a process: one block cache, one budget for memtables, and one
 * {@link DocumentCache} of recently committed documents. Heads
 * come and go with jobs, so a fixed total (rather than a fixed amount per head) keeps the daemon's
 * memory bounded whatever the number of jobs, and lets a busy head use what idle ones do not.
 */
public final class HeadMemory implements AutoCloseable {

    static {
        // The budget may be created before any head, so it loads RocksDB's native library itself.
        org.rocksdb.RocksDB.loadLibrary();
    }

    private final LRUCache blockCache;
    private final WriteBufferManager writeBuffers;
    private final DocumentCache documents;
    private final boolean owned;

    /**
     * A budget of {@code blockCacheBytes} of cached blocks, {@code memtableBytes} of memtables and
     * {@code documentCacheBytes} (Java heap) of recently committed documents, in total.
     */
    public HeadMemory(long blockCacheBytes, long memtableBytes, long documentCacheBytes) {
        this(blockCacheBytes, memtableBytes, documentCacheBytes, false);
    }

    private HeadMemory(long blockCacheBytes, long memtableBytes, long documentCacheBytes, boolean owned) {
        this.documents = new DocumentCache(documentCacheBytes);
        this.blockCache = new LRUCache(blockCacheBytes);
        // Memtable memory is charged to the block cache, so the two together stay within the cache's size.
        this.writeBuffers = new WriteBufferManager(memtableBytes, blockCache);
        this.owned = owned;
    }

    /** The budget {@code heads.*} of the configuration gives a server's heads. */
    public static HeadMemory of(TidemarkConfig.Heads heads) {
        return new HeadMemory(heads.blockCacheBytes(), heads.memtableBytes(), heads.documentCacheBytes());
    }

    /** A private budget for a head opened on its own (tests, benchmarks, tools). */
    static HeadMemory privateTo(long blockCacheBytes, long memtableBytes, long documentCacheBytes) {
        return new HeadMemory(blockCacheBytes, memtableBytes, documentCacheBytes, true);
    }

    DocumentCache documents() {
        return documents;
    }

    /** Document cache lookups answered from memory, since this budget was created. */
    public long documentCacheHits() {
        return documents.hits();
    }

    /** Document cache lookups that had to read the head. */
    public long documentCacheMisses() {
        return documents.misses();
    }

    LRUCache blockCache() {
        return blockCache;
    }

    WriteBufferManager writeBuffers() {
        return writeBuffers;
    }

    /** Whether the head that uses this budget also closes it. */
    boolean ownedByHead() {
        return owned;
    }

    @Override
    public void close() {
        writeBuffers.close();
        blockCache.close();
    }
}
