package io.tidemark.groomer;

import io.tidemark.shared.daemons.JobFence;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.RetentionPolicies;
import io.tidemark.shared.snapshots.RetentionPolicy;
import io.tidemark.shared.store.OplogStore;
import io.tidemark.shared.store.Stores;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One groom of one job, start to end, on the calling thread: expire what the retention policy no
 * longer keeps, trim the oplog store to the point-in-time window, and sweep unreferenced blocks
 * when asked or when enough stored data has become unreferenced. Sequential and blocking by
 * design (see {@link Blocking}); {@link GroomerVerticle} runs it on its own worker thread, one
 * groom at a time, never on an event loop.
 *
 * <p>Order matters: expiry first (so the sweep no longer marks the expired snapshots and the
 * trim counts only the kept ones), then the trim, then the sweep.
 */
public final class Groomer {

    private static final Logger LOG = LoggerFactory.getLogger(Groomer.class);

    /** When to sweep blocks. */
    public enum Sweep {
        /** Always (on demand). */
        ALWAYS,
        /** When the unreferenced share reaches {@code groom.unreferencedShareThreshold}. */
        IF_THRESHOLD
    }

    private final TidemarkConfig config;
    private final Stores stores;
    private final Clock clock;
    private final RetentionPolicies policies;
    private final CatalogEntries catalog;
    private final SnapshotExpirer expirer;
    private final OplogTrimmer trimmer;
    private final BlockCollector collector;
    private final GroomState state;
    private final JobFence fence;

    /**
     * @param blocks the store snapshots of this process write through; its fence is what makes
     *     the sweep safe against snapshots running meanwhile
     * @param clock now, for retention, the oplog window and the block grace period
     */
    public Groomer(TidemarkConfig config, Stores stores, FencedBlockStore blocks, Clock clock) {
        this(config, stores, blocks, clock, JobFence.soleWriter(stores.jobs()));
    }

    /**
     * @param fence the job's binding: every deletion (snapshot expiry, oplog trim, block sweep) is
     *     admitted just before it is made, so a daemon that lost the job deletes nothing of it
     */
    public Groomer(TidemarkConfig config, Stores stores, FencedBlockStore blocks, Clock clock, JobFence fence) {
        this.fence = Objects.requireNonNull(fence, "fence");
        this.config = Objects.requireNonNull(config, "config");
        this.stores = Objects.requireNonNull(stores, "stores");
        this.clock = Objects.requireNonNull(clock, "clock");
        ManifestStore manifests = new ManifestStore(stores.blockstore().database());
        this.policies = new RetentionPolicies(stores.metadata());
        this.catalog = new CatalogEntries(stores.metadata());
        this.state = new GroomState(stores.metadata());
        this.expirer = new SnapshotExpirer(stores.metadata(), manifests, state);
        this.trimmer = new OplogTrimmer(stores.oplog());
        this.collector = new BlockCollector(blocks.delegate(), blocks.fence(), manifests, catalog::all, clock,
                Duration.ofMinutes(config.groom().blockGraceMinutes()));
    }

    /** With several daemons on one block store: sweeps take the lock that keeps other daemons' snapshots away. */
    public Groomer sweepLockedBy(io.tidemark.shared.daemons.SweepLocks locks) {
        return sweepLockedBy(locks, BlockCollector.OTHERS_WAIT);
    }

    /** The same, waiting at most {@code othersWait} for other daemons' snapshots before leaving the deletes to a later sweep. */
    Groomer sweepLockedBy(io.tidemark.shared.daemons.SweepLocks locks, Duration othersWait) {
        collector.lockedBy(locks, othersWait);
        return this;
    }

    /** Grooms {@code job} (its id). Blocks the calling thread, which must not be an event loop. */
    public GroomReport groom(String job, boolean dryRun, Sweep sweep) {
        long began = System.nanoTime();
        Instant now = clock.instant();
        JsonObject jobDoc = Blocking.await(stores.jobs().find(job));
        RetentionPolicy policy = Blocking.await(policies.effective(job));
        List<CatalogEntry> entries = catalog.ofJob(job);

        // Retention.
        Set<String> inFlightBases = new HashSet<>();
        for (CatalogEntry e : entries) {
            if (e.inFlight() && e.base() != null) {
                inFlightBases.add(e.base());
            }
        }
        RetentionPlanner.Plan plan = RetentionPlanner.plan(entries, policy, now, inFlightBases);
        List<CatalogEntry> leaving = new ArrayList<>(plan.expire());
        entries.stream().filter(e -> e.state() == CatalogEntry.State.EXPIRED).forEach(leaving::add);
        Set<String> leavingIds = new HashSet<>();
        leaving.forEach(e -> leavingIds.add(e.id()));
        long expiringBytes = plan.expire().stream().mapToLong(CatalogEntry::storedBytes).sum();
        Set<String> deleted = new HashSet<>();
        if (!dryRun) {
            for (CatalogEntry e : leaving) {
                admit(job);
                if (expirer.expire(e)) {
                    deleted.add(e.id());
                }
            }
            // Chain bases nothing builds on any more (their children expired): newest first, so
            // that a whole dropped chain goes in one groom.
            catalog.ofJob(job).stream().filter(e -> e.state() == CatalogEntry.State.CHAIN_BASE)
                    .sorted(java.util.Comparator.comparing(CatalogEntry::createdAt).reversed())
                    .forEach(e -> {
                        admit(job);
                        if (expirer.expire(e)) {
                            deleted.add(e.id());
                        }
                    });
            Instant failedBefore = now.minus(Duration.ofMinutes(config.groom().blockGraceMinutes()));
            entries.stream().filter(e -> e.state() == CatalogEntry.State.FAILED && e.createdAt().isBefore(failedBefore))
                    .forEach(expirer::dropFailedPages);
        }

        // Oplog window.
        List<CatalogEntry> kept = entries.stream().filter(e -> e.complete() && !leavingIds.contains(e.id())).toList();
        Instant windowStart = now.minus(Duration.ofHours(config.restore().pitWindowHours()));
        Optional<OpTime> cut = OplogTrimmer.cutoff(kept, windowStart, jobDoc);
        OplogStore.TrimResult trimmed = cut.map(c -> {
            if (!dryRun) {
                admit(job);
            }
            return trimmer.trim(job, c, dryRun);
        }).orElse(new OplogStore.TrimResult(0, 0));

        // Blocks.
        long unswept = state.unsweptBytes() + (dryRun ? expiringBytes : 0);
        double share = share(unswept);
        boolean sweepNow = sweep == Sweep.ALWAYS || share >= config.groom().unreferencedShareThreshold();
        BlockCollector.Result blocks = BlockCollector.Result.NONE;
        if (sweepNow) {
            if (!dryRun) {
                admit(job);
            }
            // Only what was deleted: a snapshot kept as a chain base stays marked.
            blocks = collector.sweep(dryRun ? leavingIds : deleted, dryRun);
            if (!dryRun) {
                state.sweptThrough(unswept);
            }
        }
        GroomReport report = new GroomReport(job, dryRun, now, Duration.ofNanos(System.nanoTime() - began), policy,
                plan.expire().stream().map(CatalogEntry::id).toList(), plan.keep().size(), cut.orElse(null),
                trimmed.batches(), trimmed.storedBytes(), share, sweepNow, blocks);
        LOG.info("job {}: groom{}: {} snapshots expired, {} kept; oplog trimmed through {} ({} batches); {}",
                job, dryRun ? " (dry run)" : "", report.expired().size(), report.kept(), report.oplogCut(),
                report.oplogBatchesTrimmed(), sweepNow ? blocks.blocksDeleted() + " blocks (" + blocks.reclaimedBytes()
                        + " bytes) reclaimed" : String.format("no sweep (unreferenced share %.3f)", share));
        return report;
    }

    /**
     * Returns once the job's binding is still this daemon's, read just now; throws
     * {@link io.tidemark.shared.daemons.StaleBindingException} otherwise, which ends the groom
     * with nothing more deleted. The deletion follows on this thread with no other I/O between
     * (see HeldBindings for why a pause there longer than the lease margin is all that remains).
     */
    private void admit(String job) {
        Blocking.await(fence.admit(job));
    }

    /**
     * The estimated share of stored block bytes that no live snapshot references: the bytes added
     * by snapshots expired since the last sweep, over those plus the bytes added by every complete
     * snapshot of every job. An upper bound (a block an expired snapshot added may be referenced
     * by a later snapshot), read from the catalog alone, so checking it costs no block listing.
     */
    public double unreferencedShare() {
        return share(state.unsweptBytes());
    }

    private double share(long unswept) {
        long live = catalog.all().stream().filter(CatalogEntry::complete).mapToLong(CatalogEntry::storedBytes).sum();
        long total = live + Math.max(0, unswept);
        return total == 0 ? 0 : (double) Math.max(0, unswept) / total;
    }
}
