package io.tidemark.applier;

import io.tidemark.shared.bson.BsonFrames;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.OplogStore;
import io.tidemark.shared.storage.StorageFailure;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.LogLimiter;
import io.vertx.core.json.JsonObject;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Keeps one job's head: builds it from the job's initial sync (or reopens it), then applies the
 * oplog store's batches in chain order as they become durable. Every RocksDB call runs on the
 * head's own thread, so application is serial and no event loop ever waits on the disk.
 */
final class HeadRunner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HeadRunner.class);
    /** One line per job and kind of failure per interval, however often the drain retries. */
    private static final LogLimiter LOGS = new LogLimiter(java.time.Duration.ofSeconds(30));
    /** The longest wait between two attempts while the oplog cannot be applied. */
    private static final long MAX_RETRY_MS = 8_000;

    /** What a runner reports to its owner. */
    interface Listener {
        void applied(String job, OpTime appliedTs, int entries, long nanos);

        void reachedSyncEnd(String job);

        void failed(String job, String reason, boolean divergence);
    }

    private final String job;
    private final Path dir;
    private final HeadMemory memory;
    private final Stores stores;
    private final int prefetch;
    private final Listener listener;
    private final ExecutorService thread;
    private final Scheduler scheduler;
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicBoolean again = new AtomicBoolean();
    private volatile Head head;
    private volatile boolean stopped;
    private OplogApplier applier;
    private OpTime syncEnd;
    private boolean steady;
    private Disposable drain;
    /** Why a head build must not start now (a disk nearly full), if it must not. */
    private volatile java.util.function.Supplier<java.util.Optional<String>> buildGate = java.util.Optional::empty;
    /** How many documents the sync store acknowledged for the sync a build reads; -1: not known. */
    private volatile long syncDocuments = -1;
    /** Attempts that failed in a row; reset by a drain that completes. Only touched on the drain's signals. */
    private volatile int failures;

    HeadRunner(String job, Path dir, HeadMemory memory, Stores stores, int prefetch, Listener listener) {
        this.job = job;
        this.dir = dir;
        this.memory = memory;
        this.stores = stores;
        this.prefetch = prefetch;
        this.listener = listener;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tidemark-head-" + job);
            t.setDaemon(true);
            return t;
        });
        this.scheduler = Schedulers.fromExecutorService(thread, "tidemark-head-" + job);
    }

    /**
     * Opens the head built from sync {@code generation}, building it first when the directory holds
     * no complete build of that generation.
     */
    Mono<Head> open(long generation, OpTime syncStart, OpTime syncEnd) {
        return open(generation, syncStart, syncEnd, null, false);
    }

    /**
     * The same, but a head that must be built is rebuilt by {@code rebuilder} (from the job's latest
     * snapshot and the oplog store) when {@code rebuild} says so or the sync's data is gone from the
     * sync store (removed once a head caught up): building from the sync store would then make an
     * empty head. Without a rebuilder, heads are only ever built from the sync store.
     */
    Mono<Head> open(long generation, OpTime syncStart, OpTime syncEnd, HeadRebuilder rebuilder, boolean rebuild) {
        if (rebuilder == null) {
            return openOrBuild(generation, syncStart, syncEnd);
        }
        return Mono.fromCallable(() -> HeadMarker.builtGeneration(dir) != generation).subscribeOn(scheduler)
                .flatMap(missing -> !missing ? Mono.just(false)
                        : rebuild ? Mono.just(true)
                        : stores.sync().collections(job, generation).hasElements().map(has -> !has))
                .flatMap(byRebuild -> byRebuild ? rebuild(rebuilder, generation, syncEnd)
                        : openOrBuild(generation, syncStart, syncEnd));
    }

    private Mono<Head> rebuild(HeadRebuilder rebuilder, long generation, OpTime syncEnd) {
        return Mono.fromRunnable(() -> {
                    java.util.Optional<String> refused = buildGate.get();
                    if (refused.isPresent()) {
                        throw new BuildDeferred(refused.get());
                    }
                    HeadMarker.deleteHead(dir);
                    LOG.info("job {}: rebuilding its head from its latest snapshot and the oplog store in {}", job, dir);
                }).subscribeOn(scheduler)
                .then(Mono.defer(() -> rebuilder.rebuild(job, dir)))
                .then(Mono.fromCallable(() -> {
                    if (!java.nio.file.Files.isDirectory(dir)) {
                        // Opening would make an empty head that then fails on every entry, or worse.
                        throw new IllegalStateException("the rebuild of job " + job + "'s head ended without a head in " + dir);
                    }
                    // After the head is in place: a crash in between leaves a head without the marker,
                    // which the next start rebuilds rather than trusts.
                    HeadMarker.markBuilt(dir, job, generation);
                    return Head.open(dir, memory);
                }).subscribeOn(scheduler))
                .doOnNext(h -> started(h, syncEnd));
    }

    private void started(Head h, OpTime syncEnd) {
        this.syncEnd = syncEnd;
        this.steady = h.appliedPosition().compareTo(syncEnd) >= 0;
        this.applier = new OplogApplier(h);
        this.head = h;
    }

    private Mono<Head> openOrBuild(long generation, OpTime syncStart, OpTime syncEnd) {
        return Mono.fromCallable(() -> {
            if (HeadMarker.builtGeneration(dir) != generation) {
                java.util.Optional<String> refused = buildGate.get();
                if (refused.isPresent()) {
                    throw new BuildDeferred(refused.get());
                }
                HeadMarker.deleteHead(dir);
                long began = System.nanoTime();
                LOG.info("job {}: building its head from initial sync generation {} in {}", job, generation, dir);
                Head built = Head.open(dir, memory);
                try {
                    long docs = new HeadBuilder(stores.sync(), job, generation).build(built, syncStart, syncDocuments);
                    built.sync();
                    HeadMarker.markBuilt(dir, job, generation);
                    LOG.info("job {}: head built: {} documents in {} s; catching up from {} to the sync's end {}", job, docs,
                            (System.nanoTime() - began) / 1_000_000_000, syncStart, syncEnd);
                } catch (RuntimeException e) {
                    built.close();
                    throw e;
                }
                return built;
            }
            return Head.open(dir, memory);
        }).subscribeOn(scheduler).doOnNext(h -> started(h, syncEnd));
    }

    /** Asked before a build starts: a head build writes as much as the job's data, so not onto a disk nearly full. */
    HeadRunner buildGate(java.util.function.Supplier<java.util.Optional<String>> gate) {
        this.buildGate = gate;
        return this;
    }

    /** What the sync store acknowledged when the sync ended: a build from it must read as many documents. */
    HeadRunner syncDocuments(long documents) {
        this.syncDocuments = documents;
        return this;
    }

    /** A build that was not started for storage; the owner tries again later. */
    static final class BuildDeferred extends RuntimeException {
        BuildDeferred(String reason) {
            super("the head build waits: " + reason);
        }
    }

    String job() {
        return job;
    }

    /** The head, once built and open. */
    Head head() {
        return head;
    }

    OpTime appliedTs() {
        Head h = head;
        return h == null ? null : h.appliedPosition();
    }

    /** New oplog may be durable: apply whatever follows the head's position. */
    void wake() {
        if (stopped || head == null) {
            return;
        }
        again.set(true);
        if (draining.compareAndSet(false, true)) {
            again.set(false);
            drain();
        }
    }

    private void drain() {
        OpTime from = appliedTs();
        drain = stores.oplog().chainAfter(job, from, prefetch)
                .concatMap(batch -> Mono.fromRunnable(() -> apply(batch)).subscribeOn(scheduler), 1)
                .then()
                .subscribe(null, this::drainFailed, this::drained);
    }

    private void drained() {
        draining.set(false);
        failures = 0;
        if (again.get()) {
            wake();
        }
    }

    private void drainFailed(Throwable e) {
        draining.set(false);
        if (e instanceof HeadDivergenceException d) {
            stop(d.getMessage(), true);
        } else if (e instanceof UnsupportedOplogEntryException u) {
            stop(u.getMessage(), false);
        } else if (!stopped) {
            // The stores were unreachable, a disk is full, or the chain changed under us (a
            // resync): none of these is the head's fault, so try again, backing off to a few
            // seconds, and say so once per interval rather than once per attempt.
            failures++;
            long delayMs = Math.min(MAX_RETRY_MS, 250L << Math.min(failures, 6));
            boolean storage = StorageFailure.is(e);
            long suppressed = LOGS.admit(job + (storage ? ":storage" : ":other"));
            if (suppressed >= 0) {
                LOG.warn("job {}: applying the oplog paused: {}; retrying every {} s at most{}", job,
                        storage ? StorageFailure.classify(e).get().text() + " (" + e + ")" : e.toString(),
                        MAX_RETRY_MS / 1000, LogLimiter.suppressedNote(suppressed));
            }
            Mono<Void> recover = storage && rocksFailure(e) ? reopenHead() : Mono.empty();
            Mono.delay(java.time.Duration.ofMillis(delayMs)).then(recover)
                    .subscribe(null, err -> {
                        long quiet = LOGS.admit(job + ":reopen");
                        if (quiet >= 0) {
                            LOG.warn("job {}: reopening its head failed: {}{}", job, err.toString(), LogLimiter.suppressedNote(quiet));
                        }
                        Mono.delay(java.time.Duration.ofMillis(MAX_RETRY_MS)).subscribe(t -> drainFailed(e));
                    }, this::wake);
        }
    }

    private static boolean rocksFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.rocksdb.RocksDBException) {
                return true;
            }
        }
        return false;
    }

    /**
     * After RocksDB failed a write for want of space it refuses every further write (a background
     * error) until reopened. Reopening reads back the last committed position, as after a
     * crash, so no entry is applied twice or skipped. On the head's thread, like every RocksDB call.
     */
    private Mono<Void> reopenHead() {
        return Mono.<Void>fromRunnable(() -> {
            if (stopped) {
                return;
            }
            Head old = head;
            head = null;
            if (old != null) {
                old.close();
            }
            Head reopened = Head.open(dir, memory);
            applier = new OplogApplier(reopened);
            steady = reopened.appliedPosition().compareTo(syncEnd) >= 0;
            head = reopened;
            LOG.info("job {}: head reopened at {} after a storage failure", job, reopened.appliedPosition());
        }).subscribeOn(scheduler);
    }

    private void stop(String reason, boolean divergence) {
        stopped = true;
        LOG.error("job {}: head stopped: {}", job, reason);
        listener.failed(job, reason, divergence);
    }

    /** Applies one stored batch; CATCH_UP up to the sync's end position, STEADY after it. */
    private void apply(OplogStore.Batch batch) {
        if (stopped) {
            return;
        }
        long began = System.nanoTime();
        List<RawBsonDocument> entries = entries(batch.entries());
        int count = entries.size();
        if (!steady) {
            int cut = 0;
            while (cut < entries.size() && !OpTime.of(entries.get(cut).getTimestamp("ts")).isAfter(syncEnd)) {
                cut++;
            }
            if (cut > 0) {
                applier.apply(entries.subList(0, cut), OplogApplier.Mode.CATCH_UP);
            }
            if (cut < entries.size() || head.appliedPosition().compareTo(syncEnd) >= 0) {
                steady = true;
                LOG.info("job {}: head reached the initial sync's end {}; from now on a missing document is divergence", job, syncEnd);
                listener.reachedSyncEnd(job);
            }
            entries = entries.subList(cut, entries.size());
        }
        if (!entries.isEmpty()) {
            applier.apply(entries, OplogApplier.Mode.STEADY);
        }
        listener.applied(job, head.appliedPosition(), count, System.nanoTime() - began);
    }

    private static List<RawBsonDocument> entries(byte[] raw) {
        List<BsonFrames.Frame> frames = BsonFrames.split(raw);
        List<RawBsonDocument> out = new ArrayList<>(frames.size());
        for (BsonFrames.Frame f : frames) {
            out.add(new RawBsonDocument(raw, f.offset(), f.length()));
        }
        return out;
    }

    /** Runs {@code task} on the head's thread. */
    <T> Mono<T> onHeadThread(java.util.concurrent.Callable<T> task) {
        return Mono.fromCallable(task).subscribeOn(scheduler);
    }

    /**
     * The head's verify hashes ({@link HeadHashes}), computed on {@code workers} from a view: the
     * head's thread goes on applying meanwhile. {@code hashed} hears of each namespace done.
     */
    Mono<JsonObject> hashes(Scheduler workers, Consumer<NamespaceEntry> hashed) {
        return Mono.fromCallable(() -> {
            Head h = head;
            if (h == null) {
                throw new HeadClosedException("the head of " + job + " is not open");
            }
            return HeadHashes.of(h, hashed);
        }).subscribeOn(workers);
    }

    @Override
    public void close() {
        stopped = true;
        if (drain != null) {
            drain.dispose();
        }
        try {
            thread.submit(() -> {
                if (head != null) {
                    head.close();
                }
            }).get();
        } catch (Exception e) {
            LOG.warn("job {}: closing its head: {}", job, e.getMessage());
        }
        thread.shutdown();
    }
}
