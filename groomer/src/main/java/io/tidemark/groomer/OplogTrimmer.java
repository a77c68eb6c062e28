package io.tidemark.groomer;

import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.OplogStore;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Trims a job's oplog store to the point-in-time window, never removing an entry that a restore
 * inside the window, the head, or a head rebuild needs.
 *
 * <p>The rule. Let W = now − window. A point-in-time restore to a moment P ≥ W starts from the
 * newest complete snapshot at or before P and replays the oplog after that snapshot's position
 * up to P. Let S be the newest kept complete snapshot with {@code ts} ≤ W (by the entry's
 * seconds); every restore in the window starts from S or a later snapshot, so it needs only
 * entries after S.ts. If no kept snapshot is that old, S is the oldest kept snapshot: moments
 * before it cannot be restored from any snapshot, so no entry before it can serve a restore.
 * The cut is then min(S.ts, the head's applied position): the head reads on from where it has
 * applied, and a head that has not finished building from its initial sync (applied position
 * before the sync's end) still needs everything from the sync's start, so the cut is no later
 * than that start. Batches whose last entry is at or before the cut go; a batch holding any
 * entry after it stays whole, and so does the job's newest batch (see {@link OplogStore#trimThrough}).
 *
 * <p>Nothing is trimmed for a job without a complete snapshot, without an applied position, or
 * that is not {@code ACTIVE} (a resync replaces its oplog anyway; a failed head is kept for
 * inspection with the oplog it failed on).
 */
final class OplogTrimmer {

    private final OplogStore oplog;

    OplogTrimmer(OplogStore oplog) {
        this.oplog = oplog;
    }

    /** The position through which batches may go, or empty when nothing may. */
    static Optional<OpTime> cutoff(Collection<CatalogEntry> keptComplete, Instant windowStart, JsonObject job) {
        List<CatalogEntry> snapshots = keptComplete.stream().filter(e -> e.complete() && e.ts() != null)
                .sorted(Comparator.comparing(CatalogEntry::ts)).toList();
        if (snapshots.isEmpty() || job == null || !JobState.ACTIVE.name().equals(job.getString("state"))) {
            return Optional.empty();
        }
        OpTime applied = OpTime.fromJson(job.getJsonObject("appliedTs"));
        if (applied == null) {
            return Optional.empty();
        }
        long w = windowStart.getEpochSecond();
        CatalogEntry s = snapshots.get(0);
        for (CatalogEntry e : snapshots) {
            if (e.ts().seconds() <= w) {
                s = e;
            }
        }
        OpTime cut = min(s.ts(), applied);
        JsonObject sync = job.getJsonObject("sync");
        OpTime syncEnd = sync == null ? null : OpTime.fromJson(sync.getJsonObject("endTs"));
        if (syncEnd == null || applied.compareTo(syncEnd) < 0) {
            OpTime syncStart = sync == null ? null : OpTime.fromJson(sync.getJsonObject("startTs"));
            if (syncStart == null) {
                return Optional.empty();
            }
            cut = min(cut, syncStart);
        }
        return Optional.of(cut);
    }

    /** Removes (or, dry, counts) the batches through {@code cut}. Blocks: groomer worker only. */
    OplogStore.TrimResult trim(String job, OpTime cut, boolean dryRun) {
        return Blocking.await(dryRun ? oplog.trimmable(job, cut) : oplog.trimThrough(job, cut));
    }

    private static OpTime min(OpTime a, OpTime b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
