package io.tidemark.snapshotter;

import io.tidemark.shared.daemons.JobFence;
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
    private final DeltaPolicy delta;

    /**
     * @param cpu hashing and compression: a parallel scheduler sized to the cores
     * @param io RocksDB iteration and other blocking work: a bounded elastic scheduler
     */
    public SnapshotTaker(BlockStore store, ManifestStore manifests, SnapshotCatalog catalog, Scheduler cpu,
            Scheduler io, BlockWriter.Options options) {
        this(store, manifests, catalog, cpu, io, options, DeltaPolicy.OFF);
    }

    /** The same, taking delta snapshots as {@code delta} allows. */
    private JobFence fence;
    private io.tidemark.shared.daemons.SweepLocks sweepLocks;

    public SnapshotTaker(BlockStore store, ManifestStore manifests, SnapshotCatalog catalog, Scheduler cpu,
            Scheduler io, BlockWriter.Options options, DeltaPolicy delta) {
        this.delta = Objects.requireNonNull(delta, "delta");
        this.manifests = Objects.requireNonNull(manifests, "manifests");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.io = Objects.requireNonNull(io, "io");
        this.writer = new BlockWriter(store, cpu, io, options);
    }

    /** With several daemons on one block store: keeps other daemons' block sweeps away while a snapshot runs. */
    public SnapshotTaker sweepLockedBy(io.tidemark.shared.daemons.SweepLocks locks) {
        this.sweepLocks = locks;
        return this;
    }

    /**
     * Checks every write that makes a snapshot exist or visible (the catalog entry, the manifest
     * header, the completion) against the job's binding: a daemon that lost the job cannot add a
     * snapshot to it. Without it (tests and benches that wire a taker alone) the taker is the
     * job's only writer.
     */
    public SnapshotTaker fencedBy(JobFence fence) {
        this.fence = Objects.requireNonNull(fence, "fence");
        return this;
    }

    /**
     * {@code write} only once the fence admits it, subscribed in the admitting callback (see
     * HeldBindings for why that closes the window to a pause longer than the lease margin). The
     * manifest's reference pages are not fenced one by one: they are invisible until the header
     * and the catalog entry say complete, both fenced, and a failed or abandoned snapshot's pages
     * are dropped by grooms.
     */
    private <T> Mono<T> fenced(String job, Mono<T> write) {
        return fence == null ? write : fence.admitMono(job).then(write);
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
        if (sweepLocks == null) {
            return take(job, head, snapshotId, full, begun, Mono.empty());
        }
        // Admitted before it looks any block up, released once it is complete or failed (SweepLocks).
        return Mono.usingWhen(Mono.fromCompletionStage(() -> sweepLocks.admitSnapshot(snapshotId).toCompletionStage()),
                count -> take(job, head, snapshotId, full, begun,
                        Mono.defer(() -> Mono.fromCompletionStage(sweepLocks.unswept(snapshotId, count).toCompletionStage()))),
                count -> Mono.fromCompletionStage(() -> sweepLocks.releaseSnapshot(snapshotId).toCompletionStage()));
    }

    private Mono<SnapshotSummary> take(String job, HeadReader head, String snapshotId, boolean full, Runnable begun,
                                       Mono<Void> beforeComplete) {
        return Mono.defer(() -> {
            long start = System.nanoTime();
            Instant createdAt = Instant.now();
            AtomicLong blocksAdded = new AtomicLong();
            AtomicLong addedLogical = new AtomicLong();
            // The view's head and sequence, for clearing the change tracking once the snapshot is complete.
            Object[] cut = new Object[2];
            return base(job).map(b -> full ? b.forFull() : b).flatMap(base -> Mono.usingWhen(
                            Mono.fromCallable(head::openView).subscribeOn(io),
                            view -> {
                                OpTime ts = view.position();
                                List<NamespaceEntry> namespaces = new ArrayList<>(view.namespaces());
                                cut[0] = view.incarnation();
                                cut[1] = view.modificationSeq();
                                return fenced(job, mono(() -> catalog.begin(snapshotId, job, ts, createdAt, base.snapshotId(), view.incarnation(), view.modificationSeq())))
                                        .doOnSuccess(v -> begun.run())
                                        .then(deltaParent(base, view, head.keyEncoding(), full))
                                        .map(Optional::of).defaultIfEmpty(Optional.empty())
                                        .flatMap(parent -> Flux.range(0, namespaces.size())
                                                .flatMapSequential(i -> reuseOrWrite(snapshotId, i, namespaces.get(i),
                                                        view, base, parent.isPresent(), blocksAdded, addedLogical), NAMESPACES_IN_FLIGHT, 1)
                                                .collectList()
                                                .map(ns -> new Manifest(snapshotId, job, ts, createdAt, ns,
                                                        chain(base, parent.isPresent(), ns, head.keyEncoding()))));
                            },
                            view -> Mono.fromRunnable(view::close).subscribeOn(io)))
                    .flatMap(manifest -> beforeComplete.then(fenced(job, manifests.writeHeader(manifest)))
                            .then(fenced(job, mono(() -> catalog.markComplete(snapshotId, manifest))))
                            .then(forgetChanges(head, snapshotId, cut))
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
     * The snapshot is complete: the head forgets the changes it holds. A failure here (or a crash
     * before it) is harmless: the next delta only carries some changes again.
     */
    private Mono<Void> forgetChanges(HeadReader head, String snapshotId, Object[] cut) {
        return Mono.fromRunnable(() -> head.snapshotCompleted((String) cut[0], (Long) cut[1]))
                .subscribeOn(io)
                .onErrorResume(e -> {
                    LOG.warn("snapshot {}: the head's change tracking was not cleared ({}); the next delta carries more", snapshotId, e.toString());
                    return Mono.empty();
                })
                .then();
    }

    /**
     * The parent this snapshot can be a delta on, or empty for a full snapshot. A delta needs: deltas
     * on; not a forced full snapshot; a base cut from this head incarnation with the same key
     * encoding, no older than what the head's change tracking still covers; the chain within its
     * bound; and the base still complete now that this snapshot's catalog entry names it.
     *
     * <p>That last read pairs with the groomer ({@code SnapshotExpirer}): it hides a snapshot first
     * and only then looks for entries naming it as their base or parent. Either it sees this
     * entry (inserted before this read) and keeps the base as a chain base, or this read comes after
     * the hide and sees the base gone, and the snapshot is full. A delta never builds on a parent
     * being deleted.
     */
    private Mono<String> deltaParent(Base base, HeadView view, int keyEncoding, boolean full) {
        if (full || !delta.enabled() || base.manifest() == null || base.headIncarnation() == null || base.headSeq() < 0
                || !base.headIncarnation().equals(view.incarnation()) || keyEncoding == 0) {
            return Mono.empty();
        }
        Manifest.Chain parentChain = base.manifest().chain();
        if (parentChain.keyEncoding() != keyEncoding || !delta.allowsChild(parentChain)) {
            return Mono.empty();
        }
        return Mono.fromCallable(view::dirtyClearedThrough).subscribeOn(io)
                .filter(cleared -> cleared <= base.headSeq())
                .flatMap(ok -> mono(() -> catalog.find(base.snapshotId())))
                .filter(e -> e.getBoolean("complete", false) && !e.getBoolean("expired", false))
                .map(e -> base.snapshotId());
    }

    /**
     * Where the new snapshot stands: a full one starts a chain; a delta adds the bytes of the delta
     * records it wrote, which a restore of it reads and merges on top of the base.
     */
    private static Manifest.Chain chain(Base base, boolean isDelta, List<Manifest.Namespace> namespaces, int keyEncoding) {
        if (!isDelta) {
            return Manifest.Chain.full(namespaces.stream().mapToLong(Manifest.Namespace::logicalBytes).sum(), keyEncoding);
        }
        Manifest.Chain p = base.manifest().chain();
        long written = 0;
        for (Manifest.Namespace n : namespaces) {
            // Only the delta records written now: a namespace stored whole (or copied) adds no merging.
            if (n.isDelta() && n.deltaOf().snapshotId().equals(base.snapshotId())) {
                written += n.logicalBytes();
            }
        }
        return new Manifest.Chain(Manifest.Chain.DELTA, base.snapshotId(), p.depth() + 1, p.chainBytes() + written,
                p.baseBytes(), keyEncoding);
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
            Manifest.Namespace same = matching(ns);
            if (same == null || manifest == null || headIncarnation == null || headSeq < 0 || !headIncarnation.equals(incarnation)
                    || lastModified.isEmpty() || lastModified.get() > headSeq) {
                return null;
            }
            return same;
        }

        /** The base's copy of the same collection (name, type, UUID, options, indexes), or null. */
        Manifest.Namespace matching(NamespaceEntry ns) {
            if (manifest == null) {
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
                        // A delta's own references are only its changes: the blocks of its whole chain
                        // are what a full snapshot after it finds again.
                        .flatMap(manifest -> Mono.just(manifest)
                                .expand(m -> m.chain().parent() == null ? Mono.empty() : manifests.read(m.chain().parent()))
                                .concatMap(m -> manifests.allRefs(m.snapshotId()))
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

    /**
     * Copies the base's references for a namespace that did not change; in a delta snapshot writes
     * the changes of one that did, on the base's copy; reads and writes it whole otherwise. A full
     * snapshot only copies a namespace the base stored whole, so that it depends on no other snapshot.
     */
    private Mono<Manifest.Namespace> reuseOrWrite(String snapshotId, int index, NamespaceEntry ns, HeadView view, Base base,
            boolean isDelta, AtomicLong blocksAdded, AtomicLong addedLogical) {
        return Mono.fromCallable(() -> {
                    Manifest.Namespace old = base.reusable(ns, view.incarnation(), view.lastModified(ns.id()));
                    if (old != null && (isDelta || !old.isDelta())) {
                        return new Plan(old, false);
                    }
                    Manifest.Namespace parent = isDelta && ns.type() != NamespaceType.VIEW ? base.matching(ns) : null;
                    if (parent != null && !view.namespaceDirty(ns.id())) {
                        return new Plan(parent, true);
                    }
                    return new Plan(null, false);
                })
                .subscribeOn(io)
                .flatMap(plan -> {
                    if (plan.ns() == null) {
                        return writeNamespace(snapshotId, index, ns, view, base.known(), blocksAdded, addedLogical);
                    }
                    if (plan.delta()) {
                        return writeDelta(snapshotId, index, ns, view, base, plan.ns(), blocksAdded, addedLogical);
                    }
                    Manifest.Namespace old = plan.ns();
                    return manifests.writeIndexedRefs(snapshotId, index, manifests.indexedRefs(base.snapshotId(), old.index()))
                            .map(pages -> new Manifest.Namespace(index, ns.db(), ns.collection(), ns.type().wireName(),
                                    ns.uuid(), ns.options(), new ArrayList<BsonDocument>(ns.indexes()), old.documents(),
                                    old.logicalBytes(), 0, old.blocks(), pages, old.deltaOf()));
                });
    }

    /** What to do with a namespace: copy {@code ns} (delta false), write a delta on it, or (null) write it whole. */
    private record Plan(Manifest.Namespace ns, boolean delta) {
    }

    /** Writes the changes of {@code ns} since the base as delta records on the base's copy {@code parent}. */
    private Mono<Manifest.Namespace> writeDelta(String snapshotId, int index, NamespaceEntry ns, HeadView view, Base base,
            Manifest.Namespace parent, AtomicLong blocksAdded, AtomicLong addedLogical) {
        return Mono.defer(() -> {
            long[] totals = new long[3];
            DeltaInput input = new DeltaInput(view, ns);
            Flux<BlockRef> refs = writer.writeAll(input, base.known()).doOnNext(r -> count(r, totals, blocksAdded, addedLogical));
            return manifests.writeIndexedRefs(snapshotId, index, refs.map(input.starts()::index))
                    .map(pages -> new Manifest.Namespace(index, ns.db(), ns.collection(), ns.type().wireName(), ns.uuid(),
                            ns.options(), new ArrayList<BsonDocument>(ns.indexes()), view.documentCount(ns.id()),
                            totals[0], totals[1], totals[2], pages, new Manifest.DeltaOf(base.snapshotId(), parent.index())));
        });
    }

    private static void count(BlockRef r, long[] totals, AtomicLong blocksAdded, AtomicLong addedLogical) {
        totals[0] += r.uncompressedLength();
        totals[2]++;
        if (r.newlyWritten()) {
            totals[1] += r.storedLength();
            blocksAdded.incrementAndGet();
            addedLogical.addAndGet(r.uncompressedLength());
        }
    }

    private Mono<Manifest.Namespace> writeNamespace(String snapshotId, int index, NamespaceEntry ns, HeadView view,
            KnownBlocks known, AtomicLong blocksAdded, AtomicLong addedLogical) {
        return Mono.defer(() -> {
            long[] totals = new long[3]; // logical bytes, stored bytes added, blocks
            NamespaceInput input = new NamespaceInput(view, ns);
            Flux<BlockRef> refs = ns.type() == NamespaceType.VIEW
                    ? Flux.empty()
                    : writer.writeAll(input, known).doOnNext(r -> count(r, totals, blocksAdded, addedLogical));
            return manifests.writeIndexedRefs(snapshotId, index, refs.map(input.starts()::index))
                    .map(pages -> new Manifest.Namespace(index, ns.db(), ns.collection(), ns.type().wireName(), ns.uuid(),
                            ns.options(), new ArrayList<BsonDocument>(ns.indexes()),
                            input.documents(), totals[0], totals[1], totals[2], pages));
        });
    }

    private static <T> Mono<T> mono(java.util.function.Supplier<Future<T>> future) {
        return Mono.fromCompletionStage(() -> future.get().toCompletionStage());
    }
}
