package io.tidemark.restore.rebuild;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;

import java.time.Duration;

/**
 * What a head rebuild did: the snapshot it started from (and its position and chain depth), what
 * it loaded from it, the pending transactions it found in the oplog before that position, the
 * oplog entries it applied after, the position the head reached, and how long each part took.
 */
public record RebuildResult(String job, String snapshotId, OpTime snapshotTs, int chainDepth, long documentsLoaded,
                            long bytesLoaded, int pendingTransactions, long entriesReplayed, OpTime reached,
                            boolean deltaLineage, Duration loadTime, Duration replayTime, Duration total) {

    /** Snapshot bytes loaded per second of loading, in MB (10^6 bytes). */
    public double loadMBps() {
        return bytesLoaded / 1e6 / Math.max(1e-9, loadTime.toNanos() / 1e9);
    }

    /** Oplog entries applied per second of replaying. */
    public double replayEntriesPerSecond() {
        return entriesReplayed / Math.max(1e-9, replayTime.toNanos() / 1e9);
    }

    public JsonObject toJson() {
        return new JsonObject().put("job", job).put("snapshotId", snapshotId).put("snapshotTs", snapshotTs.toJson())
                .put("chainDepth", chainDepth).put("documentsLoaded", documentsLoaded).put("bytesLoaded", bytesLoaded)
                .put("pendingTransactions", pendingTransactions).put("entriesReplayed", entriesReplayed)
                .put("reached", reached.toJson()).put("deltaLineage", deltaLineage)
                .put("loadMillis", loadTime.toMillis()).put("replayMillis", replayTime.toMillis())
                .put("totalMillis", total.toMillis());
    }
}
