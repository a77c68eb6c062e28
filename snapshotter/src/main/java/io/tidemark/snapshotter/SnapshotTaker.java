package io.tidemark.snapshotter;

import io.tidemark.applier.HeadReader;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.NamespaceType;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.CorruptManifestPageException;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.blocks.KnownBlocks;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonDocument;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Takes one snapshot of a head: a consistent view at one applied position, every namespace's
 * documents through the block writer, the manifest, and last the catalog entry that makes the
 * snapshot visible.
 *
 * <p>Oplog application goes on meanwhile: the view is a RocksDB snapshot, so the head keeps
 * changing underneath while this reads the state of one position.
 *
 * <p>Deduplication starts from the job's newest complete snapshot: its block ids are loaded
 * into {@link KnownBlocks}, so a chunk that was in it costs a hash and a table lookup. The
 * in-flight catalog entry names that base, which is what keeps a garbage collector off its
 * blocks until this snapshot is done.
 *
 * <p>Namespaces are written two at a time (each with its own reader and its own chunks in
 * flight) so that reading one namespace from RocksDB, which is single-threaded per
 * namespace, overlaps with hashing and compressing another; their manifests keep head order.
 */
public final class SnapshotTaker {

    private static final Logger LOG = LoggerFactory.getLogger(SnapshotTaker.class);
    private static final int NAMESPACES_IN_FLIGHT = 2;

    private final ManifestStore manifests;
    private final SnapshotCatalog catalog;
    private final BlockWriter writer;
    private final Scheduler io;

    /**
     * @param cpu hashing and compression: a parallel scheduler sized to the cores
     * @param io RocksDB iteration and other blocking work: a bounded elastic scheduler
     */
    public SnapshotTaker(BlockStore store, ManifestStore manifests, SnapshotCatalog catalog, Scheduler cpu,
            Scheduler io, BlockWriter.Options options) {
        this.manifests = Objects.requireNonNull(manifests, "manifests");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.io = Objects.requireNonNull(io, "io");
        this.writer = new BlockWriter(store, cpu, io, options);
    }

    /** A new snapshot id: an ObjectId's hex, so ids sort by creation time. */
    public static String newSnapshotId() {
        return new ObjectId().toHexString();
    }

    public Mono<SnapshotSummary> take(String job, HeadReader head) {
        return take(job, head, newSnapshotId());
    }

    /**
     * Takes a snapshot under {@code snapshotId}. On failure the catalog entry (if one was made)
     * is marked failed and stays invisible; cancelling leaves it incomplete, as a crash would.
     */
    public Mono<SnapshotSummary> take(String job, HeadReader head, String snapshotId) {
        return take(job, head, snapshotId, () -> { });
    }

    /**
     * The same, calling {@code begun} once the snapshot's (still invisible) catalog entry exists,
     * so that whoever announces the snapshot id can be sure a lookup of it finds something.
     */
    public Mono<SnapshotSummary> take(String job, HeadReader head, String snapshotId, Runnable begun) {
        return take(job, head, snapshotId, false, begun);
    }

    /**
     * With {@code full}, a snapshot that reads every namespace and deduplicates only against what
     * the block store says it holds, never against the previous snapshot's references (which may
     * name blocks found damaged since): a store that holds a block as corrupt does not report it,
     * so the block is written again. The base is still named in the catalog entry, which keeps a
     * garbage collector off the blocks this snapshot finds in the store.
     */
    public Mono<SnapshotSummary> take(String job, HeadReader head, String snapshotId, boolean full, Runnable begun) {
        return Mono.defer(() -> {
            long start = System.nanoTime();
            Instant createdAt = Instant.now();
            AtomicLong blocksAdded = new AtomicLong();
            AtomicLong addedLogical = new AtomicLong();
            return base(job).map(b -> full ? b.forFull() : b).flatMap(base -> Mono.usingWhen(
                            Mono.fromCallable(head::openView).subscribeOn(io),
                            view -> {
                                OpTime ts = OpTime.of(view.position().ts());
                                List<NamespaceEntry> namespaces = new ArrayList<>(view.namespaces());
                                return mono(() -> catalog.begin(snapshotId, job, ts, createdAt, base.snapshotId(), view.incarnation(), view.modificationSeq()))
                                        .doOnSuccess(v -> begun.run())
                                        .thenMany(Flux.range(0, namespaces.size())
                                                .flatMapSequential(i -> reuseOrWrite(snapshotId, i, namespaces.get(i),
                                                        view, base, blocksAdded, addedLogical), NAMESPACES_IN_FLIGHT, 1))
                                        .collectList()
                                        .map(ns -> new Manifest(snapshotId, job, ts, createdAt, ns));
                            },
                            view -> Mono.fromRunnable(view::close).subscribeOn(io)))
                    .flatMap(manifest -> manifests.writeHeader(manifest)
                            .then(mono(() -> catalog.markComplete(snapshotId, manifest)))
                            .thenReturn(new SnapshotSummary(manifest, blocksAdded.get(), addedLogical.get(),
                                    Duration.ofNanos(System.nanoTime() - start))))
                    .onErrorResume(e -> mono(() -> catalog.markFailed(snapshotId, String.valueOf(e.getMessage())))
                            .onErrorResume(markError -> {
                                LOG.warn("snapshot {}: cannot record the failure: {}", snapshotId, markError.toString());
                                return Mono.empty();
                            })
                            .then(Mono.<SnapshotSummary>error(e)));
        });
    }

    /**
     * The previous complete snapshot: its blocks are known to exist, and its namespaces can be
     * reused whole when the head has not changed them since.
     */
    private record Base(String snapshotId, KnownBlocks known, Manifest manifest, String headIncarnation, long headSeq) {
        static final Base NONE = new Base(null, KnownBlocks.none(), null, null, -1);

        /** The same base, but with nothing to reuse or trust: a full snapshot. */
        Base forFull() {
            return new Base(snapshotId, KnownBlocks.none(), null, null, -1);
        }

        /**
         * The base's copy of {@code ns} when it is still exactly right: cut from the same head
         * incarnation (a rebuilt head starts over), the namespace's last change no later than the
         * base's view, and its catalog entry the same.
         */
        Manifest.Namespace reusable(NamespaceEntry ns, String incarnation, Optional<Long> lastModified) {
            if (manifest == null || headIncarnation == null || headSeq < 0 || !headIncarnation.equals(incarnation)
                    || lastModified.isEmpty() || lastModified.get() > headSeq) {
                return null;
            }
            for (Manifest.Namespace old : manifest.namespaces()) {
                if (old.db().equals(ns.db()) && old.collection().equals(ns.collection())
                        && old.type().equals(ns.type().wireName()) && java.util.Objects.equals(old.uuid(), ns.uuid())
                        && old.options().equals(ns.options()) && old.indexes().equals(new ArrayList<BsonDocument>(ns.indexes()))) {
                    return old;
                }
            }
            return null;
        }
    }

    /** The newest complete snapshot and its blocks; none for a job's first snapshot. */
    private Mono<Base> base(String job) {
        return mono(() -> catalog.latestComplete(job))
                .flatMap(entry -> manifests.read(entry.getString("_id"))
                        .flatMap(manifest -> manifests.allRefs(manifest.snapshotId())
                                .reduce(KnownBlocks.builder(manifest.blocks()), KnownBlocks.Builder::add)
                                .map(b -> new Base(manifest.snapshotId(), b.build(), manifest,
                                        entry.getString("headIncarnation"), entry.getLong("headModificationSeq", -1L)))
                                // A damaged page must not stop every later snapshot, nor be copied into
                                // one: build on nothing of the base's, as a full snapshot does.
                                .onErrorResume(CorruptManifestPageException.class, e -> {
                                    LOG.warn("job {}: the latest snapshot {} has a damaged manifest ({}); this snapshot "
                                            + "reads every namespace from the head", job, manifest.snapshotId(), e.getMessage());
                                    return Mono.just(new Base(manifest.snapshotId(), KnownBlocks.none(), null, null, -1));
                                })))
                .defaultIfEmpty(Base.NONE);
    }

    /** Copies the base's references for a namespace that did not change; reads and writes it otherwise. */
    private Mono<Manifest.Namespace> reuseOrWrite(String snapshotId, int index, NamespaceEntry ns, HeadView view, Base base,
            AtomicLong blocksAdded, AtomicLong addedLogical) {
        return Mono.fromCallable(() -> Optional.ofNullable(base.reusable(ns, view.incarnation(), view.lastModified(ns.id()))))
                .subscribeOn(io)
                .flatMap(old -> old.isPresent()
                        ? manifests.writeRefs(snapshotId, index, manifests.refs(base.snapshotId(), old.get().index()))
                                .map(pages -> new Manifest.Namespace(index, ns.db(), ns.collection(), ns.type().wireName(),
                                        ns.uuid(), ns.options(), new ArrayList<BsonDocument>(ns.indexes()), old.get().documents(),
                                        old.get().logicalBytes(), 0, old.get().blocks(), pages))
                        : writeNamespace(snapshotId, index, ns, view, base.known(), blocksAdded, addedLogical));
    }

    private Mono<Manifest.Namespace> writeNamespace(String snapshotId, int index, NamespaceEntry ns, HeadView view,
            KnownBlocks known, AtomicLong blocksAdded, AtomicLong addedLogical) {
        return Mono.defer(() -> {
            long[] totals = new long[3]; // logical bytes, stored bytes added, blocks
            NamespaceInput input = new NamespaceInput(view, ns);
            Flux<BlockRef> refs = ns.type() == NamespaceType.VIEW
                    ? Flux.empty()
                    : writer.writeAll(input, known).doOnNext(r -> {
                        totals[0] += r.uncompressedLength();
                        totals[2]++;
                        if (r.newlyWritten()) {
                            totals[1] += r.storedLength();
                            blocksAdded.incrementAndGet();
                            addedLogical.addAndGet(r.uncompressedLength());
                        }
                    });
            return manifests.writeRefs(snapshotId, index, refs)
                    .map(pages -> new Manifest.Namespace(index, ns.db(), ns.collection(), ns.type().wireName(), ns.uuid(),
                            ns.options(), new ArrayList<BsonDocument>(ns.indexes()),
                            input.documents(), totals[0], totals[1], totals[2], pages));
        });
    }

    private static <T> Mono<T> mono(java.util.function.Supplier<Future<T>> future) {
        return Mono.fromCompletionStage(() -> future.get().toCompletionStage());
    }
}
