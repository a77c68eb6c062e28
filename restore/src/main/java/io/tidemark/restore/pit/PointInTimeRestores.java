package io.tidemark.restore.pit;

import io.tidemark.restore.PitWindow;
import io.tidemark.restore.PointInTimeSources;
import io.tidemark.restore.RestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.OplogStore;
import io.tidemark.shared.store.Stores;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Point-in-time restores: checks the target against the job's window, loads the newest snapshot
 * at or before it into a temporary head under {@code restore.tempDir}, replays the stored oplog up
 * to the target, and hands out the result as a {@link RestoreSource}.
 *
 * <p>A temporary head takes about as much disk as the job's head and 96 MB of memory while it
 * exists; it is deleted when the source is closed, when building it fails or is cancelled, and
 * (for heads a crash left behind) on the first restore after a restart.
 */
public final class PointInTimeRestores implements PointInTimeSources {

    private static final Logger LOG = LoggerFactory.getLogger(PointInTimeRestores.class);
    private static final String PREFIX = "pit-";
    private static final int BLOCKS_AHEAD = 4;

    private final Path tempRoot;
    private final PitWindows windows;
    private final ManifestStore manifests;
    private final SnapshotLoader loader;
    private final OplogReplayer replayer;
    private final Mono<Void> staleRemoved;

    public PointInTimeRestores(TidemarkConfig config, Stores stores, BlockStore blocks) {
        this(config.restoreTempPath(), Duration.ofHours(config.restore().pitWindowHours()), stores.jobs(),
                new SnapshotCatalog(stores.metadata()), new ManifestStore(stores.blockstore().database()),
                stores.oplog(), blocks, Clock.systemUTC());
    }

    public PointInTimeRestores(Path tempRoot, Duration window, JobStore jobs, SnapshotCatalog catalog,
                               ManifestStore manifests, OplogStore oplog, BlockStore blocks, Clock clock) {
        this.tempRoot = Objects.requireNonNull(tempRoot, "tempRoot");
        this.windows = new PitWindows(jobs, catalog, oplog, window, clock);
        this.manifests = Objects.requireNonNull(manifests, "manifests");
        this.loader = new SnapshotLoader(manifests, new BlockReader(blocks, BLOCKS_AHEAD));
        this.replayer = new OplogReplayer(oplog);
        this.staleRemoved = Mono.fromRunnable(this::removeStale).subscribeOn(Schedulers.boundedElastic()).then().cache();
    }

    public PitWindows windows() {
        return windows;
    }

    @Override
    public Mono<PitWindow> window(String job) {
        return windows.window(job);
    }

    @Override
    public Mono<OpTime> positionAt(String job, Instant wallClock) {
        return windows.positionAt(job, wallClock);
    }

    @Override
    public Mono<RestoreSource> open(String job, OpTime target) {
        return openSource(job, target).cast(RestoreSource.class);
    }

    /** The same as {@link #open}, typed. */
    public Mono<PointInTimeRestoreSource> openSource(String job, OpTime target) {
        return staleRemoved.then(windows.check(job, target)).flatMap(reach -> {
            PitWindows.SnapshotPoint start = reach.startFor(target);
            return manifests.read(start.snapshotId())
                    .switchIfEmpty(Mono.error(() -> ApiException.conflict("snapshot " + start.snapshotId() + " of job " + job
                            + " has no manifest (deleted meanwhile?); try again", null)))
                    .flatMap(manifest -> TemporaryHead.create(tempRoot.resolve(PREFIX + new ObjectId().toHexString()))
                            .flatMap(head -> {
                                long began = System.nanoTime();
                                return loader.load(head, manifest)
                                        .then(replayer.replay(head, job, manifest.snapshotId(), manifest.ts(), target, reach.window()))
                                        .flatMap(applied -> head.call(() -> {
                                            LOG.info("job {}: point-in-time restore at {} built from snapshot {} ({}) and {} oplog entries in {} ms",
                                                    job, target, manifest.snapshotId(), manifest.ts(), applied,
                                                    (System.nanoTime() - began) / 1_000_000);
                                            return PointInTimeRestoreSource.over(head, target, manifest);
                                        }))
                                        .onErrorResume(e -> head.close().onErrorResume(x -> Mono.empty()).then(Mono.error(e)))
                                        .doOnCancel(head::close);
                            }));
        });
    }

    /**
     * Removes temporary heads a crash left behind. The directory belongs to this server: only it
     * builds restores there, and none runs before this has finished.
     */
    private void removeStale() {
        if (!Files.isDirectory(tempRoot)) {
            return;
        }
        try (Stream<Path> entries = Files.list(tempRoot)) {
            entries.filter(p -> p.getFileName().toString().startsWith(PREFIX)).forEach(p -> {
                LOG.info("removing {}, a point-in-time restore's head left by an earlier run", p);
                io.tidemark.shared.util.Directories.deleteTree(p);
            });
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", tempRoot, e.toString());
        }
    }
}
