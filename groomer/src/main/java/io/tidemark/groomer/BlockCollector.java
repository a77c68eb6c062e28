package io.tidemark.groomer;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.snapshots.ManifestStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Block garbage collection: mark every block a live or in-flight snapshot references, then
 * delete the blocks nothing marked, old enough, that no snapshot has found meanwhile.
 *
 * <p>What is live. Marked are the references of every complete snapshot of every job (blocks
 * are shared across jobs by content) except those being expired; the pages written so far of
 * every in-flight snapshot (running, or cut off by a crash: its retry may reuse them); and all
 * references of the base of every in-flight snapshot, because a snapshot references its base's
 * blocks straight from memory, without looking them up (the retention planner also never
 * expires such a base). Failed attempts and expired snapshots pin nothing.
 *
 * <p>Why that suffices, step by step:
 * <ol>
 * <li>The catalog is read once, before the mark; the fence protects every lookup since the
 *     earliest in-flight snapshot began ({@link BlockFence#startSweep}).
 * <li>Marking streams manifests' pages into {@link LiveBlocks}; memory is per block, not per
 *     reference.
 * <li>The store is listed; a block neither marked nor younger than the grace period becomes a
 *     candidate. The grace covers blocks written by snapshots the fence cannot see (another
 *     process, a tool): a block written and not yet in any page is young.
 * <li>The catalog is read again and every snapshot that appeared or completed meanwhile, and
 *     every new in-flight snapshot's base, is marked too; candidates it references are kept.
 * <li>Each remaining candidate is deleted through the fence, which keeps it if any snapshot
 *     looked it up or wrote it since the protection start. A snapshot that finds a block
 *     therefore either made the sweep keep it or waited for its deletion and wrote it again.
 * </ol>
 * An interrupted sweep leaves garbage for the next one, never a missing live block. A dry run
 * does everything but the deletes. The fence sees this process's snapshots; with several daemons
 * on one store, {@link io.tidemark.shared.daemons.SweepLocks} keeps the others' snapshots from
 * running across steps 4 and 5.
 */
final class BlockCollector {

    private static final Logger LOG = LoggerFactory.getLogger(BlockCollector.class);
    /** Block ids a dry run lists (all are counted). */
    static final int DRY_RUN_SAMPLE = 100;

    private final BlockStore store;
    private final BlockFence fence;
    private final ManifestStore manifests;
    private final Supplier<List<CatalogEntry>> catalog;
    private final Clock clock;
    private final Duration grace;
    /** How long a sweep waits for other daemons' snapshots to end before it leaves its deletes to a later one. */
    static final Duration OTHERS_WAIT = Duration.ofMinutes(10);
    private io.tidemark.shared.daemons.SweepLocks locks;
    private Duration othersWait = OTHERS_WAIT;

    /**
     * @param fence the fence of the store the snapshotter of this process writes through
     * @param catalog reads every job's catalog entries (blocks the caller)
     * @param clock the groomer's clock, for the grace period against blocks' write times
     */
    BlockCollector(BlockStore store, BlockFence fence, ManifestStore manifests, Supplier<List<CatalogEntry>> catalog,
            Clock clock, Duration grace) {
        this.store = store;
        this.fence = fence;
        this.manifests = manifests;
        this.catalog = catalog;
        this.clock = clock;
        this.grace = grace;
    }

    /** With several daemons on the store: the lock that keeps their snapshots and this sweep apart. */
    BlockCollector lockedBy(io.tidemark.shared.daemons.SweepLocks locks, Duration othersWait) {
        this.locks = locks;
        this.othersWait = othersWait;
        return this;
    }

    /** What a sweep did (or, dry, would do). */
    record Result(long blocksScanned, long blocksLive, long blocksDeleted, long reclaimedBytes, long skippedYoung,
                  long skippedRescued, long skippedFound, List<String> sample) {
        static final Result NONE = new Result(0, 0, 0, 0, 0, 0, 0, List.of());
    }

    /**
     * Runs one sweep on the calling thread (the groomer's worker).
     *
     * @param expiring snapshots being expired by this groom: not marked even if still in the catalog
     */
    Result sweep(Set<String> expiring, boolean dryRun) {
        // 1. The catalog, and from it how far back the fence must protect lookups.
        long readAt = System.currentTimeMillis();
        List<CatalogEntry> first = catalog.get();
        long protectFrom = readAt;
        for (CatalogEntry e : first) {
            long created = e.createdAt().toEpochMilli();
            if (e.inFlight() && created >= fence.startedAtMillis() - fence.marginMillis()) {
                protectFrom = Math.min(protectFrom, created);
            }
        }
        // Also for a dry run: a new generation only narrows what later sweeps protect, and the
        // dry run should see what the real sweep would.
        fence.startSweep(protectFrom);

        // 2. Mark.
        LiveBlocks live = new LiveBlocks();
        Set<String> marked = new HashSet<>();
        for (CatalogEntry e : first) {
            mark(e, expiring, live, marked);
        }

        // 3. Candidates: unmarked and older than the grace period.
        Instant youngFrom = clock.instant().minus(grace);
        SweepCandidates candidates = new SweepCandidates();
        long[] counts = new long[2]; // scanned, young
        Blocking.await(store.list().doOnNext(info -> {
            counts[0]++;
            if (live.contains(info.id())) {
                return;
            }
            if (!info.writtenAt().isBefore(youngFrom)) {
                counts[1]++;
                return;
            }
            candidates.add(info.id(), info.storedSize());
        }).then());

        // With other daemons on the store: their snapshots end, and no new one starts, before the
        // re-check and the deletes (SweepLocks); without the lock, nothing is deleted this time.
        if (!dryRun && locks != null && !Blocking.await(locks.acquireSweep(othersWait.toMillis()))) {
            LOG.info("block sweep: another daemon sweeps now, or its snapshots ran on; {} candidates are left to a later sweep",
                    candidates.size());
            return new Result(counts[0], live.size(), 0, 0, counts[1], 0, 0, List.of());
        }
        try {
            return recheckAndDelete(candidates, expiring, live, marked, counts, dryRun);
        } finally {
            if (!dryRun && locks != null) {
                Blocking.await(locks.releaseSweep());
            }
        }
    }

    private Result recheckAndDelete(SweepCandidates candidates, Set<String> expiring, LiveBlocks live, Set<String> marked,
                                    long[] counts, boolean dryRun) {
        // 4. Re-check: snapshots that began or completed since the first read.
        for (CatalogEntry e : catalog.get()) {
            mark(e, expiring, live, marked);
        }

        // 5. Delete through the fence.
        long deleted = 0;
        long reclaimed = 0;
        long rescued = 0;
        long found = 0;
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            BlockId id = candidates.id(i);
            if (live.contains(id)) {
                rescued++;
                continue;
            }
            if (dryRun) {
                if (fence.mightHaveBeenTouched(id)) {
                    found++;
                    continue;
                }
                deleted++;
                reclaimed += candidates.storedSize(i);
                if (sample.size() < DRY_RUN_SAMPLE) {
                    sample.add(id.hex());
                }
                continue;
            }
            if (fence.deleteUnlessTouched(id, () -> Blocking.await(store.delete(id)))) {
                deleted++;
                reclaimed += candidates.storedSize(i);
            } else {
                found++;
            }
        }
        LOG.info("block sweep{}: {} blocks scanned, {} live, {} deleted ({} bytes), kept {} young, {} referenced since the mark, {} looked up by snapshots",
                dryRun ? " (dry run)" : "", counts[0], live.size(), deleted, reclaimed, counts[1], rescued, found);
        return new Result(counts[0], live.size(), deleted, reclaimed, counts[1], rescued, found, List.copyOf(sample));
    }

    /** Marks what {@code e} pins, once per snapshot. */
    private void mark(CatalogEntry e, Set<String> expiring, LiveBlocks live, Set<String> marked) {
        switch (e.state()) {
            case COMPLETE -> {
                if (!expiring.contains(e.id())) {
                    markRefs(e.id(), live, marked);
                }
            }
            case IN_FLIGHT -> {
                // Pages written so far: read again on the re-check, as the snapshot writes on.
                marked.remove(e.id());
                markRefs(e.id(), live, marked);
                if (e.base() != null) {
                    markRefs(e.base(), live, marked);
                }
            }
            case CHAIN_BASE -> {
                // A live delta's restore reads this one's blocks.
                if (!expiring.contains(e.id())) {
                    markRefs(e.id(), live, marked);
                }
            }
            case FAILED, EXPIRED -> {
                // Pin nothing: a failed attempt's reused blocks are protected by the fence.
            }
        }
    }

    private void markRefs(String snapshotId, LiveBlocks live, Set<String> marked) {
        if (!marked.add(snapshotId)) {
            return;
        }
        Blocking.await(manifests.allRefs(snapshotId).doOnNext(ref -> live.add(ref.id())).then());
    }
}
