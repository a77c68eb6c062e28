package io.tidemark.applier;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps native RocksDB objects alive while a call uses them. Every call that touches them holds a
 * lease for its duration; {@link #close} refuses new leases, waits for the held ones to end, and
 * only then lets its owner free the objects. A reader that comes too late gets a
 * {@link HeadClosedException}, never freed memory.
 *
 * <p>A lease is one atomic increment and one decrement, cheap enough for every read of the apply
 * path. Leases nest (a held lease may take another), but a nested one fails once closing has begun,
 * which is how long work is cancelled at its next step.
 */
final class LeaseGate {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseGate.class);
    /** After this long a close says what it waits for. */
    static final long WARN_NANOS = TimeUnit.SECONDS.toNanos(5);
    /**
     * A lease lasts one call (a read of a buffer, a multiGet, one apply call), so a close that
     * waits this long waits for something broken; it then leaves the native objects allocated
     * (leaked) rather than free them under a reader.
     */
    static final long GIVE_UP_NANOS = TimeUnit.MINUTES.toNanos(2);

    /** Releases the lease it was returned by; for try-with-resources. */
    interface Lease extends AutoCloseable {
        @Override
        void close();
    }

    private final String what;
    private final AtomicLong held = new AtomicLong();
    private final Lease lease = this::release;
    private final Object drained = new Object();
    private volatile boolean closing;
    /** Guards {@link #close} so that every closer returns only once the first one has finished. */
    private final Object closeLock = new Object();
    private Boolean closedCleanly;

    /** @param what names the guarded object in exceptions and log lines (no secrets: a path or a job) */
    LeaseGate(String what) {
        this.what = what;
    }

    /** Takes a lease, or throws {@link HeadClosedException} once closing has begun. */
    Lease acquire() {
        held.incrementAndGet();
        if (closing) {
            release();
            throw new HeadClosedException(what + " is closed");
        }
        return lease;
    }

    private void release() {
        if (held.decrementAndGet() == 0 && closing) {
            synchronized (drained) {
                drained.notifyAll();
            }
        }
    }

    boolean isClosing() {
        return closing;
    }

    /** Throws {@link HeadClosedException} if closing has begun (for calls that touch nothing native). */
    void checkOpen() {
        if (closing) {
            throw new HeadClosedException(what + " is closed");
        }
    }

    /**
     * Refuses new leases and waits for the held ones to end; then runs {@code free} once. Returns
     * whether the objects were freed. Safe from any thread and more than once: a second caller waits
     * for the first. Must not be called while holding a lease of this gate.
     */
    boolean close(Runnable free) {
        synchronized (closeLock) {
            if (closedCleanly != null) {
                return closedCleanly;
            }
            closing = true;
            closedCleanly = awaitDrained();
            if (closedCleanly) {
                free.run();
            } else {
                LOG.error("{}: readers still active after {} s; its native resources are left allocated", what,
                        TimeUnit.NANOSECONDS.toSeconds(GIVE_UP_NANOS));
            }
            return closedCleanly;
        }
    }

    private boolean awaitDrained() {
        long start = System.nanoTime();
        long nextWarn = start + WARN_NANOS;
        boolean interrupted = false;
        try {
            synchronized (drained) {
                while (held.get() != 0) {
                    long now = System.nanoTime();
                    if (now - start >= GIVE_UP_NANOS) {
                        return false;
                    }
                    if (now - nextWarn >= 0) {
                        LOG.warn("{}: closing waits for {} reader(s) for {} s", what, held.get(),
                                TimeUnit.NANOSECONDS.toSeconds(now - start));
                        nextWarn = now + WARN_NANOS;
                    }
                    try {
                        drained.wait(100);
                    } catch (InterruptedException e) {
                        // Freeing under a reader would crash the process: finish waiting first.
                        interrupted = true;
                    }
                }
                return true;
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
