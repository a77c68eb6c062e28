package io.tidemark.restore.rebuild;

import io.tidemark.applier.HeadRebuilder;
import io.tidemark.applier.TransactionsInFlight;
import io.tidemark.restore.PitWindow;
import io.tidemark.restore.pit.OplogReplayer;
import io.tidemark.restore.pit.SnapshotLoader;
import io.tidemark.restore.pit.TemporaryHead;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.metrics.Metrics;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.OplogStore;
import io.tidemark.shared.store.Stores;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Rebuilds a job's head from the job's latest complete snapshot plus the oplog store, with no new
 * initial sync from the customer's cluster: the data path of moving a job to another daemon, or of
 * replacing a lost head.
 *
 * <p>The snapshot (full, or a delta merged with its chain) is bulk-loaded into a new head in a
 * staging directory next to the target, as a point-in-time restore loads one. The transactions
 * pending at the snapshot's position are found in the oplog before it, the head takes over the
 * snapshot's change tracking (so the next snapshot can be a delta on it), and the stored oplog is
 * applied from the snapshot's position to the stored tip. Only then is the staging directory
 * renamed to the target: a crash at any point leaves nothing under the target's name, and the
 * next attempt starts over. Every RocksDB and file operation runs on the new head's own thread;
 * memory is the staging head's fixed budget plus a few blocks and batches in flight.
 */
public final class HeadRebuilds implements HeadRebuilder {

    private static final Logger LOG = LoggerFactory.getLogger(HeadRebuilds.class);
    private static final String STAGING_SUFFIX = ".rebuilding";
    private static final int BLOCKS_AHEAD = 4;
    /** Catch-up rounds after the first replay, and the round size under which the head is close enough. */
    private static final int CATCH_UP_ROUNDS = 8;
    private static final long CATCH_UP_ENTRIES = 1_000;
    /**
     * How far before the snapshot's position the oplog is read for pending transactions: MongoDB
     * aborts an unprepared transaction after a minute, and a prepared one waits for its coordinator.
     */
    public static final Duration DEFAULT_TRANSACTION_LOOKBACK = Duration.ofHours(1);

    private final SnapshotCatalog catalog;
    private final ManifestStore manifests;
    private final OplogStore oplog;
    private final SnapshotLoader loader;
    private final OplogReplayer replayer;
    private final InFlightScan inFlight;
    private final Duration lookback;
    private final RebuildMetrics metrics = new RebuildMetrics(Metrics.registry());

    public HeadRebuilds(Stores stores, BlockStore blocks) {
        this(new SnapshotCatalog(stores.metadata()), new ManifestStore(stores.blockstore().database()), stores.oplog(), blocks,
                DEFAULT_TRANSACTION_LOOKBACK);
    }

    public HeadRebuilds(SnapshotCatalog catalog, ManifestStore manifests, OplogStore oplog, BlockStore blocks, Duration lookback) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.manifests = Objects.requireNonNull(manifests, "manifests");
        this.oplog = Objects.requireNonNull(oplog, "oplog");
        // A snapshot's documents come in head key order: loaded as ingested files, the fast path.
        this.loader = new SnapshotLoader(manifests, new BlockReader(blocks, BLOCKS_AHEAD), true);
        this.replayer = new OplogReplayer(oplog);
        this.inFlight = new InFlightScan(oplog, Schedulers.boundedElastic());
        this.lookback = Objects.requireNonNull(lookback, "lookback");
    }

    /** For the applier ({@link HeadRebuilder}): a rebuild without a listener. */
    @Override
    public Mono<RebuildResult> rebuild(String job, Path target) {
        return rebuild(job, target, RebuildProgress.NONE);
    }

    /**
     * Rebuilds the job's head at {@code target}, which must not exist. Fails with a
     * {@link HeadRebuildException} when the stored data cannot make a head (no complete snapshot,
     * or an oplog that does not continue from it); cancelling removes the staging head.
     */
    public Mono<RebuildResult> rebuild(String job, Path target, RebuildProgress progress) {
        Path staging = target.resolveSibling(target.getFileName() + STAGING_SUFFIX);
        return Mono.defer(() -> {
            long began = System.nanoTime();
            if (Files.exists(target)) {
                return Mono.error(new IllegalStateException("a head already exists at " + target + "; remove it to rebuild"));
            }
            return Mono.fromCompletionStage(() -> catalog.latestComplete(job).toCompletionStage())
                    .switchIfEmpty(Mono.error(() -> new HeadRebuildException("job " + job + " has no complete snapshot, so its head"
                            + " cannot be rebuilt from stored data; only a new initial sync can build it (tidemark jobs resync --job "
                            + job + ")")))
                    .flatMap(entry -> manifests.read(entry.getString("_id"))
                            .switchIfEmpty(Mono.error(() -> new HeadRebuildException("snapshot " + entry.getString("_id") + " of job "
                                    + job + " has no manifest (deleted meanwhile?); try again")))
                            .flatMap(manifest -> covered(job, manifest.ts())
                                    .flatMap(span -> build(job, entry, manifest, span, staging, progress, began))))
                    .flatMap(result -> moveIntoPlace(staging, target).thenReturn(result))
                    .doOnNext(result -> {
                        metrics.completed(job, result.total());
                        LOG.info("job {}: head rebuilt in {} from snapshot {} ({}): {} documents ({} MB) in {} ms, {} pending"
                                        + " transactions, {} oplog entries to {} in {} ms", job, target, result.snapshotId(),
                                result.snapshotTs(), result.documentsLoaded(), result.bytesLoaded() / 1_000_000,
                                result.loadTime().toMillis(), result.pendingTransactions(), result.entriesReplayed(),
                                result.reached(), result.replayTime().toMillis());
                    })
                    .doOnError(e -> metrics.failed(job));
        });
    }

    /** The oplog store's start and tip, once it is known to continue from the snapshot at {@code ts}. */
    private Mono<OpTime[]> covered(String job, OpTime ts) {
        return oplog.oldest(job).zipWith(oplog.latest(job))
                .switchIfEmpty(Mono.error(() -> new HeadRebuildException("job " + job + " has no stored oplog to replay from its"
                        + " snapshot at " + ts + "; only a new initial sync can build its head")))
                .map(ends -> {
                    OpTime start = ends.getT1().prev();
                    OpTime tip = ends.getT2().last();
                    if (start.compareTo(ts) > 0) {
                        throw new HeadRebuildException("the oplog store of job " + job + " no longer covers the gap from its"
                                + " latest snapshot at " + ts + " (" + PitWindow.iso(ts) + "): it starts after " + start + " ("
                                + PitWindow.iso(start) + "), so entries " + ts + " to " + start + " are missing; only a new"
                                + " initial sync can build its head");
                    }
                    return new OpTime[] {start, tip.compareTo(ts) > 0 ? tip : ts};
                });
    }

    private Mono<RebuildResult> build(String job, JsonObject entry, Manifest manifest, OpTime[] span, Path staging,
                                      RebuildProgress progress, long began) {
        AtomicLong bytes = new AtomicLong();
        AtomicLong replayed = new AtomicLong();
        io.micrometer.core.instrument.Counter loadedMeter = metrics.loaded(job);
        io.micrometer.core.instrument.Counter replayedMeter = metrics.replayed(job);
        long[] marks = new long[3];
        Object[] found = new Object[2];
        return TemporaryHead.create(staging).flatMap(head -> loader.load(head, manifest, n -> {
                            bytes.addAndGet(n);
                            loadedMeter.increment(n);
                            progress.loaded(n);
                        })
                        .then(Mono.fromRunnable(() -> marks[0] = System.nanoTime()))
                        .then(inFlight.at(job, manifest.ts(), span[0], lookback))
                        .flatMap(txns -> head.call(() -> {
                            found[0] = txns.size();
                            found[1] = takeOver(head, txns, entry, manifest);
                            return txns;
                        }))
                        .then(Mono.fromRunnable(() -> marks[1] = System.nanoTime()))
                        .then(Mono.defer(() -> {
                            java.util.function.LongConsumer counted = n -> {
                                replayed.addAndGet(n);
                                replayedMeter.increment(n);
                                progress.replayed(n);
                            };
                            return replayer.replay(head, job, manifest.snapshotId(), manifest.ts(), span[1],
                                            new PitWindow(manifest.ts(), span[1]), counted)
                                    .flatMap(n -> catchUp(head, job, manifest, span[1], counted, 1).thenReturn(n));
                        }))
                        .flatMap(applied -> head.call(() -> {
                            long documents = head.head().documentCounts().values().stream().mapToLong(Long::longValue).sum();
                            OpTime reached = OpTime.of(head.head().appliedTs());
                            marks[2] = System.nanoTime();
                            return new long[] {documents, reached.packed()};
                        }))
                        .flatMap(r -> head.closeKeeping().thenReturn(new RebuildResult(job, manifest.snapshotId(), manifest.ts(),
                                manifest.chain().depth(), r[0], bytes.get(), (Integer) found[0], replayed.get(),
                                OpTime.ofPacked(r[1]), (Boolean) found[1], Duration.ofNanos(marks[0] - began),
                                Duration.ofNanos(marks[2] - marks[1]), Duration.ofNanos(System.nanoTime() - began))))
                        .onErrorResume(e -> head.close().onErrorResume(x -> Mono.empty()).then(Mono.error(e)))
                        .doOnCancel(head::close));
    }

    /**
     * Applies what was stored while the rebuild ran, in rounds, until a round finds little new
     * (the source keeps writing): the head then starts close to the tip, and a move's handover
     * leaves the new owner only seconds to catch up.
     */
    private Mono<Void> catchUp(TemporaryHead head, String job, Manifest manifest, OpTime from,
                               java.util.function.LongConsumer counted, int round) {
        if (round > CATCH_UP_ROUNDS) {
            return Mono.empty();
        }
        return oplog.latest(job).map(OplogStore.BatchInfo::last).filter(tip -> tip.compareTo(from) > 0)
                .flatMap(tip -> replayer.replay(head, job, manifest.snapshotId(), from, tip, new PitWindow(manifest.ts(), tip), counted)
                        .flatMap(n -> n < CATCH_UP_ENTRIES ? Mono.<Void>empty() : catchUp(head, job, manifest, tip, counted, round + 1)));
    }

    /**
     * On the new head's thread, before anything past the snapshot is applied: the pending
     * transactions, the exact position (with its term), and the snapshot's change tracking when
     * the snapshot recorded it and its keys are encoded as this head's. Returns whether it took
     * the tracking over (else the next snapshot is full, which is always correct).
     */
    private static boolean takeOver(TemporaryHead head, TransactionsInFlight txns, JsonObject entry, Manifest manifest) {
        head.head().restorePendingTransactions(txns);
        OpTime last = txns.lastPosition();
        if (last != null && last.equals(manifest.ts())) {
            head.head().initializePosition(last, txns.lastTerm());
        }
        String incarnation = entry.getString("headIncarnation");
        long seq = entry.getLong("headModificationSeq", -1L);
        if (incarnation == null || seq < 0 || manifest.chain().keyEncoding() != head.head().keyEncoding()) {
            return false;
        }
        head.head().adoptSnapshotLineage(incarnation, seq);
        return true;
    }

    /** Renames the finished staging head to the target and makes the rename durable. Blocking: a worker. */
    static Mono<Void> moveIntoPlace(Path staging, Path target) {
        return Mono.<Void>fromRunnable(() -> {
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
                    dir.force(true);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot move the rebuilt head " + staging + " to " + target, e);
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }
}
