package io.tidemark.restore.pit;

import io.tidemark.applier.Head;
import io.tidemark.applier.HeadMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A throw-away head a point-in-time restore is built in, with a thread of its own that does every
 * RocksDB and file operation on it (never an event loop, and never two at once, which a head's
 * writer and its native iterators require) and a small private memory budget, so a restore does
 * not take the live heads' cache. Closing it deletes its directory.
 */
public final class TemporaryHead {

    private static final Logger LOG = LoggerFactory.getLogger(TemporaryHead.class);
    /** Enough for the replay's reads of recently written documents; the rest streams from disk. */
    static final long CACHE_BYTES = 64L << 20;
    static final long MEMTABLE_BYTES = 32L << 20;
    /** Documents the replay rewrites, found again without a RocksDB read. */
    static final long DOCUMENT_CACHE_BYTES = 32L << 20;

    private final Path dir;
    private final ExecutorService thread;
    private final Scheduler scheduler;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Mono<Void> closing;
    /** Set by {@link #closeKeeping}: the head's files stay where they are. */
    private volatile boolean keep;
    private HeadMemory memory;
    private Head head;

    private TemporaryHead(Path dir) {
        this.dir = dir;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tidemark-pit-" + dir.getFileName());
            t.setDaemon(true);
            return t;
        });
        this.scheduler = Schedulers.fromExecutorService(thread, "tidemark-pit-" + dir.getFileName());
        this.closing = Mono.<Void>fromRunnable(this::release).subscribeOn(scheduler)
                .doFinally(s -> thread.shutdown())
                .cache();
    }

    /** Creates an empty head at {@code dir} (removing whatever a crashed restore left there). */
    public static Mono<TemporaryHead> create(Path dir) {
        TemporaryHead t = new TemporaryHead(dir);
        return t.call(() -> {
            io.tidemark.shared.util.Directories.deleteTree(dir);
            Files.createDirectories(dir.getParent());
            t.memory = new HeadMemory(CACHE_BYTES, MEMTABLE_BYTES, DOCUMENT_CACHE_BYTES);
            t.head = Head.open(dir, t.memory);
            return t;
        }).onErrorResume(e -> t.close().then(Mono.error(e)));
    }

    public Head head() {
        return head;
    }

    public Path directory() {
        return dir;
    }

    Scheduler scheduler() {
        return scheduler;
    }

    /** Runs {@code task} on the head's thread. */
    public <T> Mono<T> call(Callable<T> task) {
        return Mono.fromCallable(task).subscribeOn(scheduler);
    }

    public Mono<Void> run(Runnable task) {
        return Mono.<Void>fromRunnable(task).subscribeOn(scheduler);
    }

    /** Runs {@code task} on the head's thread later, or not at all if the head is already closed. */
    void execute(Runnable task) {
        try {
            thread.execute(task);
        } catch (RejectedExecutionException closedAlready) {
            // Closing the head closed whatever the task would have.
        }
    }

    /**
     * Closes the head and deletes its files on the head's thread, after whatever is queued there;
     * the same Mono for every caller, so it is safe to call from anywhere and more than once.
     */
    public Mono<Void> close() {
        if (closed.compareAndSet(false, true)) {
            closing.subscribe(null, e -> LOG.warn("removing the temporary head {}: {}", dir, e.toString()));
        }
        return closing;
    }

    /**
     * Closes the head (synced) and keeps its files: a head built here to be moved into place. A
     * close already under way deletes them all the same.
     */
    public Mono<Void> closeKeeping() {
        keep = true;
        return close();
    }

    private void release() {
        try {
            if (head != null) {
                if (keep) {
                    head.sync();
                }
                head.close();
            }
        } finally {
            if (memory != null) {
                memory.close();
            }
            if (!keep) {
                io.tidemark.shared.util.Directories.deleteTree(dir);
            }
        }
    }
}
