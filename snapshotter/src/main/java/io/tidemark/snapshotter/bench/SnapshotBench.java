package io.tidemark.snapshotter.bench;

import io.tidemark.applier.Head;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Directories;
import io.tidemark.shared.util.ProcessMemory;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * {@code tidemark bench snapshot}: snapshots of a synthetic head through the real stack — a
 * RocksDB head, the server's embedded store (H2-backed mongo-java-server) for manifests and
 * the catalog, and the configured block store — with the server's default chunking and
 * compression.
 *
 * <p>Sequence: build a head of {@code logicalBytes} of synthetic documents (not timed), warm
 * the JIT on 64 MB that is thrown away (a server is long-lived; a cold JIT is not what an
 * operator's snapshots see), {@code runs} full snapshots, each into an empty block store of its
 * own (the median is reported: one run on a shared machine says little), an unchanged
 * re-snapshot, then 1% of the documents touched — 0.5% rewritten in place (a run of recent
 * ones, where updates gather) and 0.5% appended — and a third snapshot; the last two on the
 * last full snapshot's store. Throughput is logical (uncompressed BSON) bytes per wall-clock
 * second.
 */
public final class SnapshotBench {

    private static final long WARMUP_BYTES = 64L << 20;
    private static final double REWRITE_SHARE = 0.005;
    private static final double APPEND_SHARE = 0.005;

    private SnapshotBench() {
    }

    public static Map<String, Object> run(Path workDir, long logicalBytes) {
        return run(workDir, logicalBytes, "packed", 1);
    }

    /**
     * @param store {@code packed}, {@code filesystem} or {@code mongodb} (the blocks collection of
     *     the embedded store)
     */
    public static Map<String, Object> run(Path workDir, long logicalBytes, String store, int runs) {
        if (runs < 1) {
            throw new IllegalArgumentException("runs must be at least 1: " + runs);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        Scheduler cpu = Schedulers.newParallel("bench-snapshot-cpu", cores, true);
        Scheduler io = Schedulers.newBoundedElastic(4 * cores, 10_000, "bench-snapshot-io", 60, true);
        Vertx vertx = VertxFactory.create();
        Path root;
        try {
            root = Files.createTempDirectory(Files.createDirectories(workDir), "snapshot-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TidemarkConfig config = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", root.toString(),
                "TIDEMARK_BLOCKSTORE_TYPE", store));
        Stores stores = await(vertx, Stores.open(vertx, config));
        BlockStore blocks = null;
        try (Head head = Head.open(root.resolve("head"))) {
            BlockWriter.Options options = BlockWriter.Options.of(config.snapshots());
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("store", config.blockstoreType());
            result.put("cores", cores);
            result.put("chunking", options.chunking().toString());
            result.put("compressionLevel", options.compressionLevel());

            long t0 = System.nanoTime();
            long documents = SyntheticHead.load(head, new SyntheticDocuments(20240917L), logicalBytes);
            result.put("headDocuments", documents);
            result.put("headBuildSeconds", seconds(System.nanoTime() - t0));
            // A head at rest, as a live one is between bursts: otherwise the timed snapshot competes
            // with RocksDB compacting the gigabyte the bench has just bulk-loaded.
            long compactStart = System.nanoTime();
            head.compact();
            result.put("headCompactSeconds", seconds(System.nanoTime() - compactStart));

            warmUp(root.resolve("warmup"), cpu, io, options, config.blockstoreType());

            java.util.List<double[]> fulls = new java.util.ArrayList<>(); // MB/s, MB per CPU-second
            SnapshotSummary full = null;
            SnapshotTaker taker = null;
            String job = null;
            long c1 = 0;
            for (int run = 1; run <= runs; run++) {
                BlockPipelineBench.close(blocks);
                // An empty store and a new job each time, so that every run writes every block.
                TidemarkConfig runConfig = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", root.toString(),
                        "TIDEMARK_BLOCKSTORE_TYPE", store, "TIDEMARK_BLOCKSTORE_PATH", root.resolve("blocks-" + run).toString()));
                if ("mongodb".equals(runConfig.blockstoreType())) {
                    reactor.core.publisher.Mono.from(stores.blockstore().database()
                            .getCollection(BlockStores.BLOCKS_COLLECTION).drop()).block(Duration.ofMinutes(5));
                }
                blocks = BlockStores.open(runConfig, stores, io);
                taker = new SnapshotTaker(blocks, new ManifestStore(stores.blockstore().database()),
                        new SnapshotCatalog(stores.metadata()), cpu, io, options);
                job = "bench-" + run;
                long c0 = BlockPipelineBench.processCpuNanos();
                full = taker.take(job, head).block(Duration.ofHours(2));
                c1 = BlockPipelineBench.processCpuNanos();
                // The machine may be shared: logical MB per CPU-second of this process shows the
                // pipeline's own cost when other processes take cores away from the wall clock.
                fulls.add(new double[] {mbps(full), BlockPipelineBench.mbps(full.logicalBytes(), c1 - c0)});
            }
            java.util.List<double[]> sorted = new java.util.ArrayList<>(fulls);
            sorted.sort(Comparator.comparingDouble(r -> r[0]));
            double[] median = sorted.get(sorted.size() / 2);
            result.put("logicalBytes", full.logicalBytes());
            result.put("fullMBps", median[0]);
            result.put("fullMBpsPerCpuSecond", median[1]);
            result.put("fullRunsMBps", fulls.stream().map(r -> r[0]).toList());
            result.put("fullStoredBytes", full.storedBytes());
            result.put("fullSeconds", seconds(full.duration().toNanos()));
            result.put("compressionRatio", Math.round(100.0 * full.logicalBytes() / full.storedBytes()) / 100.0);
            if (blocks instanceof PackBlockStore packed) {
                // group commit at work: compare with the full snapshot's blocksAdded
                result.put("fullFsyncs", packed.fsyncs());
                result.put("fullBlocksAdded", full.blocksAdded());
            }

            SnapshotSummary unchanged = taker.take(job, head).block(Duration.ofHours(2));
            long c2 = BlockPipelineBench.processCpuNanos();
            result.put("unchangedMBps", mbps(unchanged));
            result.put("unchangedMBpsPerCpuSecond", BlockPipelineBench.mbps(unchanged.logicalBytes(), c2 - c1));
            result.put("unchangedStoredBytes", unchanged.storedBytes());

            Map<String, Long> changes = SyntheticHead.change(head, new SyntheticDocuments(20240918L), REWRITE_SHARE,
                    (long) (logicalBytes * APPEND_SHARE), documents, 7);
            result.put("changedDocuments", changes.get("rewritten"));
            result.put("appendedDocuments", changes.get("appended"));
            long c3 = BlockPipelineBench.processCpuNanos();
            SnapshotSummary second = taker.take(job, head).block(Duration.ofHours(2));
            long c4 = BlockPipelineBench.processCpuNanos();
            result.put("secondMBps", mbps(second));
            result.put("secondMBpsPerCpuSecond", BlockPipelineBench.mbps(second.logicalBytes(), c4 - c3));
            result.put("secondStoredBytes", second.storedBytes());
            result.put("secondStoredShareOfFull", Math.round(10000.0 * second.storedBytes() / full.storedBytes()) / 10000.0);
            result.put("peakRssBytes", ProcessMemory.peakRssBytes());
            return result;
        } finally {
            BlockPipelineBench.close(blocks);
            stores.close();
            await(vertx, vertx.close());
            cpu.dispose();
            io.dispose();
            Directories.deleteTree(root);
        }
    }

    /**
     * Compiles the hot loops (cutting, hashing, compression, file writes) before the clock
     * starts, on a store of the measured kind where that is a file store.
     */
    private static void warmUp(Path dir, Scheduler cpu, Scheduler io, BlockWriter.Options options, String store) {
        BlockStore blocks = "packed".equals(store) ? new PackBlockStore(dir, io) : new FilesystemBlockStore(dir, io);
        try {
            BlockWriter writer = new BlockWriter(blocks, cpu, io, options);
            SyntheticDocuments docs = new SyntheticDocuments(1);
            writer.write(docs.input(WARMUP_BYTES)).block(Duration.ofMinutes(10));
            writer.write(docs.input(WARMUP_BYTES)).block(Duration.ofMinutes(10));
        } finally {
            BlockPipelineBench.close(blocks);
            Directories.deleteTree(dir);
        }
    }

    private static double mbps(SnapshotSummary s) {
        return Math.round(s.logicalBytes() / 1e6 / (s.duration().toNanos() / 1e9) * 10) / 10.0;
    }

    private static double seconds(long nanos) {
        return Math.round(nanos / 1e7) / 100.0;
    }

    private static <T> T await(Vertx vertx, io.vertx.core.Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code SnapshotBench [workDir] [logicalBytes, e.g. 1g] [packed|filesystem|mongodb] [runs]}; prints the result map. */
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "target/bench");
        long bytes = BlockPipelineBench.parseSize(args.length > 1 ? args[1] : "1g");
        System.out.println(run(dir, bytes, args.length > 2 ? args[2] : "packed", args.length > 3 ? Integer.parseInt(args[3]) : 3));
    }
}
