package io.tidemark.restore.snapshot;

import io.tidemark.restore.RestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A complete snapshot as a restore source: the namespaces and their metadata from the manifest
 * header, each namespace's documents from its block references in order, merged with the chain
 * beneath it when the snapshot is a delta ({@link ChainReader}).
 *
 * <p>Every block is verified against its hash as it is read ({@link BlockReader}), so a corrupt
 * or missing block fails the namespace's stream with an error naming the block, never with
 * wrong bytes. Beyond that, a namespace whose blocks add up to other than the manifest's logical
 * size (a reference page lost, say) fails too, at its end.
 *
 * <p>Holds nothing but the manifest header: blocks are read on demand, a bounded number ahead
 * (the reader's prefetch), so memory does not grow with the snapshot.
 */
public final class SnapshotRestoreSource implements RestoreSource {

    private final Manifest manifest;
    private final ChainReader chain;

    SnapshotRestoreSource(ChainReader chain) {
        this.chain = Objects.requireNonNull(chain, "chain");
        this.manifest = chain.tip();
    }

    /**
     * The snapshot's source. Only call it for a snapshot the catalog lists as complete: the
     * manifest of an incomplete one may lack pages. Errors when the manifest is gone.
     */
    public static Mono<SnapshotRestoreSource> open(ManifestStore manifests, BlockReader blocks, String snapshotId) {
        return manifests.read(snapshotId)
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("snapshot " + snapshotId
                        + " has no manifest in the blockstore DB; it cannot be restored")))
                .flatMap(m -> ChainReader.open(manifests, blocks, m))
                .map(SnapshotRestoreSource::new);
    }

    public Manifest manifest() {
        return manifest;
    }

    @Override
    public OpTime ts() {
        return manifest.ts();
    }

    @Override
    public List<Manifest.Namespace> namespaces() {
        return manifest.namespaces();
    }

    @Override
    public long logicalBytes() {
        // A delta's manifest counts only its changes: estimate what its namespaces restore to.
        return manifest.isDelta() ? manifest.namespaces().stream().mapToLong(chain::estimatedBytes).sum()
                : manifest.logicalBytes();
    }

    @Override
    public Flux<ByteBuffer> documents(Manifest.Namespace namespace) {
        if (namespace.index() < 0 || namespace.index() >= manifest.namespaces().size()
                || !manifest.namespaces().get(namespace.index()).ns().equals(namespace.ns())) {
            return Flux.error(new IllegalArgumentException(namespace.ns() + " is not namespace " + namespace.index()
                    + " of snapshot " + manifest.snapshotId()));
        }
        // A delta namespace is merged with its chain (ChainReader), in key order like a full one.
        return chain.documents(namespace);
    }

    /** Nothing to release: blocks are read on demand and the manifest header is small. */
    @Override
    public void close() {
    }
}
