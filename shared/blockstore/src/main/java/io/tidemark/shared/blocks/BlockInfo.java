package io.tidemark.shared.blocks;

import java.time.Instant;
import java.util.Objects;

/**
 * What a store knows about a block without reading it. {@code writtenAt} lets a garbage
 * collector leave alone blocks younger than a grace period, which may belong to a snapshot
 * whose manifest is not written yet.
 */
public record BlockInfo(BlockId id, long storedSize, Instant writtenAt) {
    public BlockInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(writtenAt, "writtenAt");
    }
}
