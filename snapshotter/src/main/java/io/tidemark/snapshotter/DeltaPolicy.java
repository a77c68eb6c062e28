package io.tidemark.snapshotter;

import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.snapshots.Manifest;

/**
 * When a snapshot may be a delta on its parent, and how long a chain may grow.
 *
 * <p>Past the bound the next snapshot is full rather than a consolidation of the chain: both
 * write every document of the changed namespaces again, but a full snapshot reads them from the
 * head (local RocksDB, no decompression or hash checks) where a consolidation would read, verify
 * and merge every level of the chain from the block store first; and a full snapshot still
 * deduplicates against the chain's blocks, so clustered data costs what it costs today.
 *
 * @param enabled whether snapshots may be deltas at all
 * @param maxDepth deltas a chain may hold after its full base
 * @param maxChainShare the delta records a chain may hold, as a share of its base's logical bytes:
 *     a restore reads them on top of the base, so this bounds its extra reading
 */
public record DeltaPolicy(boolean enabled, int maxDepth, double maxChainShare) {
    public static final DeltaPolicy OFF = new DeltaPolicy(false, 0, 0);

    public static DeltaPolicy of(TidemarkConfig.Snapshots config) {
        return new DeltaPolicy(config.deltas(), config.deltaMaxDepth(), config.deltaMaxChainShare());
    }

    /** Whether a delta may be taken on a parent that stands at {@code parent} in its chain. */
    boolean allowsChild(Manifest.Chain parent) {
        return enabled && parent.depth() + 1 <= maxDepth && parent.chainBytes() <= maxChainShare * parent.baseBytes();
    }
}
