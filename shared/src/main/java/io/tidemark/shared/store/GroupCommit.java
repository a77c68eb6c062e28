package io.tidemark.shared.store;

import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Makes each write of the embedded store durable before it is acknowledged: the write is
 * committed to the store file and the file is forced to disk, so that neither a killed process
 * nor a lost machine loses an acknowledged write. Writers that arrive while one fsync runs share
 * the next one. The MVStore is opened with its background writer off ({@link KeyOrderUpgrade}):
 * every store of its pages is a commit made here, in order, so none is still being written by
 * another thread when a commit returns. Compacting the file, which that background writer would
 * otherwise do, runs here on a timer, as one more commit.
 *
 * <p>Blocking: on the embedded server's own threads, never an event loop's.
 */
final class GroupCommit implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommit.class);
    /** Chunks less full than this are rewritten by compaction. */
    private static final int TARGET_FILL_PERCENT = 60;
    private static final int COMPACT_WRITE_BYTES = 16 * 1024 * 1024;
    private static final long COMPACT_EVERY_SECONDS = 60;

    private final MVStore store;
    private final Object commitLock = new Object();
    private final Object syncLock = new Object();
    private long committed; // guarded by commitLock
    private long synced; // guarded by syncLock
    private final ScheduledExecutorService housekeeping;

    GroupCommit(MVStore store) {
        this.store = store;
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tidemark-embedded-store-compaction");
            t.setDaemon(true);
            return t;
        });
        housekeeping.scheduleWithFixedDelay(this::compact, COMPACT_EVERY_SECONDS, COMPACT_EVERY_SECONDS, TimeUnit.SECONDS);
    }

    /** Commits what has been written and returns once it is on disk. */
    void durable() {
        long ticket;
        synchronized (commitLock) {
            store.commit();
            ticket = ++committed;
        }
        synchronized (syncLock) {
            if (synced >= ticket) {
                return; // an fsync that began after this commit covered it
            }
            long through;
            synchronized (commitLock) {
                through = committed;
            }
            // Every commit counted so far has written its chunk: this fsync covers them all.
            store.sync();
            synced = through;
        }
    }

    private void compact() {
        try {
            if (store.isClosed()) {
                return;
            }
            boolean rewrote;
            synchronized (commitLock) {
                rewrote = store.compact(TARGET_FILL_PERCENT, COMPACT_WRITE_BYTES);
            }
            if (rewrote) {
                durable();
            }
        } catch (RuntimeException e) {
            // A full disk closes the store; the storage health probe reopens it. Nothing to do here.
            LOG.debug("embedded store: compaction skipped: {}", e.toString());
        }
    }

    @Override
    public void close() {
        housekeeping.shutdownNow();
    }
}
