package io.tidemark.groomer;

import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.RetentionPolicy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What one groom of a job did, or with {@code dryRun} would do.
 *
 * @param expired snapshots expired (their manifests and catalog entries removed)
 * @param kept snapshots the policy keeps
 * @param oplogCut the position through which oplog batches were trimmed; null when none could be
 * @param unreferencedShare the estimated share of stored bytes no live snapshot references, before
 *     the sweep (see {@link Groomer#unreferencedShare})
 * @param swept whether a block sweep ran; the block numbers are zero otherwise
 */
public record GroomReport(String job, boolean dryRun, Instant startedAt, Duration duration, RetentionPolicy policy,
                          List<String> expired, int kept, OpTime oplogCut, long oplogBatchesTrimmed,
                          long oplogBytesTrimmed, double unreferencedShare, boolean swept,
                          BlockCollector.Result blocks) {

    public long blocksDeleted() {
        return blocks.blocksDeleted();
    }

    public long reclaimedBytes() {
        return blocks.reclaimedBytes();
    }

    /** The full report, as the API and {@code tidemark groom --json} show it. */
    public JsonObject toJson() {
        JsonObject out = new JsonObject()
                .put("job", job)
                .put("dryRun", dryRun)
                .put("startedAt", startedAt.toString())
                .put("durationSeconds", duration.toMillis() / 1000.0)
                .put("policy", policy.toJson())
                .put("expired", expired.size())
                .put("expiredSnapshots", new JsonArray(expired))
                .put("kept", kept)
                .put("oplogCut", oplogCut == null ? null : oplogCut.toJson())
                .put("oplogBatchesTrimmed", oplogBatchesTrimmed)
                .put("oplogBytesTrimmed", oplogBytesTrimmed)
                .put("unreferencedShare", unreferencedShare)
                .put("swept", swept)
                .put("blocksScanned", blocks.blocksScanned())
                .put("blocksLive", blocks.blocksLive())
                .put("blocksDeleted", blocks.blocksDeleted())
                .put("reclaimedBytes", blocks.reclaimedBytes())
                .put("blocksKeptYoung", blocks.skippedYoung())
                .put("blocksKeptReferencedSinceMark", blocks.skippedRescued())
                .put("blocksKeptLookedUp", blocks.skippedFound());
        if (dryRun) {
            out.put("blocksToDelete", new JsonArray(blocks.sample()));
        }
        return out;
    }

    /** The {@code tidemark.groom.completed} event. */
    public JsonObject toEvent() {
        return new JsonObject()
                .put("job", job)
                .put("expired", expired.size())
                .put("blocksDeleted", blocks.blocksDeleted())
                .put("reclaimedBytes", blocks.reclaimedBytes())
                .put("oplogBatchesTrimmed", oplogBatchesTrimmed)
                .put("dryRun", dryRun);
    }
}
