package io.tidemark.snapshotter;

import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * What one snapshot took and cost.
 *
 * @param blocksAdded blocks this snapshot wrote (the others were already stored)
 * @param addedLogicalBytes uncompressed bytes of those blocks
 */
public record SnapshotSummary(Manifest manifest, long blocksAdded, long addedLogicalBytes, Duration duration) {

    public String snapshotId() {
        return manifest.snapshotId();
    }

    public OpTime ts() {
        return manifest.ts();
    }

    public long documents() {
        return manifest.documents();
    }

    public long logicalBytes() {
        return manifest.logicalBytes();
    }

    /** Compressed bytes of the blocks this snapshot added to the store. */
    public long storedBytes() {
        return manifest.storedBytes();
    }

    public long blocks() {
        return manifest.blocks();
    }

    /** Share of the logical bytes that were already stored: 1 for an unchanged head, about 0 for a first snapshot. */
    public double dedupRatio() {
        long logical = logicalBytes();
        return logical == 0 ? 1.0 : Math.max(0, 1.0 - (double) addedLogicalBytes / logical);
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("snapshotId", snapshotId())
                .put("job", manifest.job())
                .put("ts", ts().toJson())
                .put("createdAt", manifest.createdAt().toString())
                .put("documents", documents())
                .put("logicalBytes", logicalBytes())
                .put("storedBytes", storedBytes())
                .put("blocks", blocks())
                .put("blocksAdded", blocksAdded)
                .put("durationSeconds", duration.toNanos() / 1e9)
                .put("complete", true);
    }
}
