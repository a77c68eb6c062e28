package io.tidemark.applier;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a head's write-ahead log synced about once a second. Oplog batches are written without
 * waiting for the disk: the position travels in the same write batch as the changes, so after an
 * OS crash RocksDB recovers a consistent prefix and the rest is re-applied from the durable oplog
 * store. Syncing this often bounds that replay without an fsync per batch, and on a thread of its
 * own: an fsync of a second's WAL takes long enough that the applier would wait for it.
 */
final class WalSyncer {
    private static final Logger LOG = LoggerFactory.getLogger(WalSyncer.class);
    private static final long SYNC_NANOS = 1_000_000_000L;
    private static final ExecutorService THREAD = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tidemark-head-wal-sync");
        t.setDaemon(true);
        return t;
    });

    private final HeadDatabase database;
    private final AtomicBoolean queued = new AtomicBoolean();
    private volatile long lastSync = System.nanoTime();

    WalSyncer(HeadDatabase database) {
        this.database = database;
    }

    /** After an unsynced write: queues a sync when the last one is a second old. */
    void written() {
        if (System.nanoTime() - lastSync > SYNC_NANOS && queued.compareAndSet(false, true)) {
            THREAD.execute(this::syncInBackground);
        }
    }

    /** Syncs now, on the caller's thread. */
    void syncNow() {
        long started = System.nanoTime();
        database.syncWal();
        lastSync = started;
    }

    private void syncInBackground() {
        try {
            syncNow();
        } catch (HeadClosedException closed) {
            // Closing synced it.
        } catch (HeadException e) {
            // The next sync tries again; a WAL that cannot be written fails the next commit.
            LOG.warn("{}: cannot sync the write-ahead log: {}", database.directory(),
                    e.getCause() == null ? e.getMessage() : e.getCause().getMessage());
        } finally {
            queued.set(false);
        }
    }
}
