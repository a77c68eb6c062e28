package io.tidemark.restore.snapshot;

import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A snapshot's namespaces as whole documents in key order, whether the snapshot is full or a delta
 * at the end of a chain.
 *
 * <p>A namespace stored whole is its blocks, read and verified in order. A delta namespace is
 * merged with every level beneath it (each delta's {@code deltaOf}, down to a namespace stored
 * whole) in one streaming pass: a k-way merge by head key in which the newest level wins and a
 * delete drops the key ({@link ChainMerge}). Memory is one cursor per level, each a block or two
 * ahead, whatever the data size; every block is still verified against its hash as it is read, and
 * every level must add up to the bytes its manifest says.
 */
public final class ChainReader {

    private final Manifest tip;
    /** The tip and its ancestors, by snapshot id. */
    private final Map<String, Manifest> chain;
    private final ManifestStore manifests;
    private final BlockReader blocks;

    private ChainReader(Manifest tip, Map<String, Manifest> chain, ManifestStore manifests, BlockReader blocks) {
        this.tip = tip;
        this.chain = chain;
        this.manifests = manifests;
        this.blocks = blocks;
    }

    /**
     * Reads the manifests {@code tip} builds on (its parents, to its chain's full snapshot). Errors
     * when one is missing: a delta without its parent cannot be restored.
     */
    public static Mono<ChainReader> open(ManifestStore manifests, BlockReader blocks, Manifest tip) {
        Objects.requireNonNull(tip, "tip");
        return Mono.just(tip)
                .expand(m -> m.chain().parent() == null ? Mono.empty()
                        : manifests.read(m.chain().parent()).switchIfEmpty(Mono.error(() -> new IllegalStateException(
                                "snapshot " + m.snapshotId() + " is a delta on " + m.chain().parent()
                                        + ", whose manifest is missing: it cannot be restored"))))
                .take(Math.max(2, tip.chain().depth() + 2L)) // a manifest naming itself cannot loop
                .collectMap(Manifest::snapshotId)
                .map(all -> new ChainReader(tip, new HashMap<>(all), manifests, blocks));
    }

    public Manifest tip() {
        return tip;
    }

    /** The documents of one of the tip's namespaces, as buffers of whole raw BSON documents in key order. */
    public Flux<ByteBuffer> documents(Manifest.Namespace namespace) {
        if (!namespace.isDelta()) {
            return stored(tip, namespace);
        }
        return Flux.defer(() -> {
            List<Flux<ByteBuffer>> levels = new ArrayList<>();
            Manifest m = tip;
            Manifest.Namespace ns = namespace;
            while (ns.isDelta()) {
                levels.add(stored(m, ns));
                Manifest.DeltaOf d = ns.deltaOf();
                Manifest parent = chain.get(d.snapshotId());
                if (parent == null || d.index() < 0 || d.index() >= parent.namespaces().size()
                        || levels.size() > chain.size()) {
                    return Flux.error(new IllegalStateException("snapshot " + m.snapshotId() + ": " + ns.ns()
                            + " is a delta on namespace " + d.index() + " of " + d.snapshotId()
                            + ", which is not in its chain"));
                }
                m = parent;
                ns = parent.namespaces().get(d.index());
            }
            levels.add(stored(m, ns));
            String what = "snapshot " + tip.snapshotId() + " namespace " + namespace.ns();
            return Flux.using(() -> new ChainMerge(levels, what, namespace.documents()),
                    merge -> Flux.<ByteBuffer>generate(sink -> {
                        ByteBuffer b = merge.next();
                        if (b == null) {
                            sink.complete();
                        } else {
                            sink.next(b);
                        }
                    }),
                    ChainMerge::close);
        }).subscribeOn(Schedulers.boundedElastic()); // the merge waits for blocks: never on an event loop
    }

    /**
     * The logical bytes a namespace restores to: exact when it is stored whole; for a delta, its
     * documents at the average size of the namespace it finally builds on (the delta's own bytes are
     * only its changes). An estimate for progress and headers, never a check.
     */
    public long estimatedBytes(Manifest.Namespace namespace) {
        Manifest.Namespace ns = namespace;
        for (int steps = 0; ns.isDelta() && steps <= chain.size(); steps++) {
            Manifest parent = chain.get(ns.deltaOf().snapshotId());
            if (parent == null || ns.deltaOf().index() >= parent.namespaces().size()) {
                return namespace.logicalBytes();
            }
            ns = parent.namespaces().get(ns.deltaOf().index());
        }
        if (ns == namespace) {
            return ns.logicalBytes();
        }
        return ns.documents() == 0 ? 0 : Math.round((double) ns.logicalBytes() / ns.documents() * namespace.documents());
    }

    /** One level's blocks as stored, checked to add up to its manifest's logical bytes. */
    private Flux<ByteBuffer> stored(Manifest m, Manifest.Namespace ns) {
        return Flux.defer(() -> {
            long[] read = new long[1];
            return blocks.read(manifests.refs(m.snapshotId(), ns.index()).map(BlockRef::id))
                    .map(chunk -> {
                        read[0] += chunk.length;
                        return ByteBuffer.wrap(chunk);
                    })
                    .concatWith(Mono.defer(() -> read[0] == ns.logicalBytes() ? Mono.empty()
                            : Mono.error(new IllegalStateException("snapshot " + m.snapshotId() + ": the blocks of "
                                    + ns.ns() + " hold " + read[0] + " bytes, its manifest says " + ns.logicalBytes()))));
        });
    }
}
