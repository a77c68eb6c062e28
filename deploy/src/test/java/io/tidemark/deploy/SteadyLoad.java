package io.tidemark.deploy;

import io.tidemark.deploy.demo.DemoWorkload;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The demo workload run by one thread, one operation at a time with the history recorded after
 * each: the history's post-images are only right if no other write comes in between.
 */
final class SteadyLoad implements AutoCloseable {
    private final DemoWorkload workload;
    private final SourceHistory history;
    private final AtomicLong operations = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean stopping;
    private Thread thread;

    SteadyLoad(DemoWorkload workload, SourceHistory history) {
        this.workload = workload;
        this.history = history;
    }

    void start() {
        thread = new Thread(() -> {
            try {
                while (!stopping) {
                    workload.one().block();
                    history.record();
                    operations.incrementAndGet();
                    Thread.sleep(15);
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "steady-load");
        thread.setDaemon(true);
        thread.start();
    }

    /** Fails the test if the load stopped on an error (the source is never killed, so it must not). */
    void check() {
        if (failure.get() != null) {
            throw new AssertionError("the write load failed", failure.get());
        }
    }

    long operations() {
        return operations.get();
    }

    @Override
    public void close() throws InterruptedException {
        stopping = true;
        if (thread != null) {
            thread.join(30_000);
        }
        workload.close();
        check();
    }
}
