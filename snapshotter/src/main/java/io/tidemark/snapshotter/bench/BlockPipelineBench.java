package io.tidemark.snapshotter.bench;

import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.util.ProcessMemory;
import io.tidemark.snapshotter.blocks.BlockWriteResult;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.FastCdcChunker;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Measures the block pipeline end to end: synthetic head data through {@link BlockWriter}
 * into a {@link PackBlockStore} (or a {@link FilesystemBlockStore}), once into an empty store
 * (chunk, hash, compress, durable write) and once more with identical data (chunk, hash,
 * stat: the cost of a snapshot of an unchanged head).
 *
 * <p>Run: {@code java -Xmx1g -cp <classpath> io.tidemark.snapshotter.bench.BlockPipelineBench
 * <workDir> [logicalBytes, e.g. 2g] [--chunker] [--store packed|filesystem]}; it prints the
 * result map. Put the work directory on the disk the store will use in production: fsync
 * cost (and for the filesystem store, file creation) dominates the first pass's storage
 * share and differs a lot between file systems.
 */
public final class BlockPipelineBench {

    private static final long SEED = 20240917L;

    private BlockPipelineBench() {
    }

    public static Map<String, Object> run(Path workDir, long logicalBytes) {
        return run(workDir, logicalBytes, "packed");
    }

    /** @param store {@code packed} or {@code filesystem} */
    public static Map<String, Object> run(Path workDir, long logicalBytes, String store) {
        int cores = Runtime.getRuntime().availableProcessors();
        Scheduler cpu = Schedulers.newParallel("bench-cpu", cores);
        Scheduler io = Schedulers.newBoundedElastic(4 * cores, 10_000, "bench-io");
        BlockStore blocks = null;
        try {
            Path root = Files.createTempDirectory(Files.createDirectories(workDir), "blocks-");
            blocks = switch (store) {
                case "packed" -> new PackBlockStore(root, io);
                case "filesystem" -> new FilesystemBlockStore(root, io);
                default -> throw new IllegalArgumentException("store must be packed or filesystem, not " + store);
            };
            BlockWriter.Options options = BlockWriter.Options.defaults();
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("store", store);
            result.put("cores", cores);
            result.put("compressionLevel", options.compressionLevel());
            result.put("maxInFlight", options.maxInFlight());
            result.put("chunking", options.chunking().toString());
            result.putAll(passes(blocks, cpu, io, options, logicalBytes));
            result.put("peakRssBytes", ProcessMemory.peakRssBytes());
            result.put("storeDir", root.toString());
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            close(blocks);
            cpu.dispose();
            io.dispose();
        }
    }

    /** Releases a store's files (a packed store holds them open and locked); null is ignored. */
    static void close(BlockStore store) {
        if (store instanceof PackBlockStore packed) {
            packed.close();
        }
    }

    /**
     * Two passes of the same {@code logicalBytes} of synthetic documents through a writer
     * on {@code store}; usable for any store implementation.
     */
    public static Map<String, Object> passes(BlockStore store, Scheduler cpu, Scheduler io, BlockWriter.Options options,
            long logicalBytes) {
        SyntheticDocuments docs = new SyntheticDocuments(SEED);
        BlockWriter writer = new BlockWriter(store, cpu, io, options);
        Map<String, Object> result = new LinkedHashMap<>();

        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        BlockWriteResult first = writer.write(docs.input(logicalBytes)).block(Duration.ofHours(1));
        long t1 = System.nanoTime();
        long c1 = processCpuNanos();
        BlockWriteResult second = writer.write(docs.input(logicalBytes)).block(Duration.ofHours(1));
        long t2 = System.nanoTime();
        long c2 = processCpuNanos();

        long stored = store.storedBytes().block(Duration.ofMinutes(10));
        result.put("logicalBytes", first.logicalBytes());
        result.put("blocks", first.refs().size());
        result.put("firstPassMBps", mbps(first.logicalBytes(), t1 - t0));
        result.put("secondPassMBps", mbps(second.logicalBytes(), t2 - t1));
        // The machine may be shared: throughput per CPU-second shows the pipeline's own cost
        // when other processes take cores away from the wall-clock figures.
        result.put("firstPassMBpsPerCpuSecond", mbps(first.logicalBytes(), c1 - c0));
        result.put("secondPassMBpsPerCpuSecond", mbps(second.logicalBytes(), c2 - c1));
        result.put("storedBytes", stored);
        result.put("compressionRatio", Math.round(100.0 * first.logicalBytes() / stored) / 100.0);
        result.put("secondPassBlocksAdded", second.blocksAdded());
        result.put("peakChunksInFlight", writer.peakChunksInFlight());
        return result;
    }

    /** CPU time of the whole process: figures per CPU-second hold when other processes take cores away. */
    public static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    static double mbps(long bytes, long nanos) {
        return Math.round(bytes / 1e6 / (nanos / 1e9) * 10) / 10.0;
    }

    /** A size as the benchmarks take it: bytes, or a number with k, m or g (binary units). */
    public static long parseSize(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        long unit = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1;
        };
        try {
            return Long.parseLong(unit == 1 ? t : t.substring(0, t.length() - 1)) * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + s + "' (use e.g. 1g, 512m)");
        }
    }

    /**
     * Single-thread throughput of the chunker alone in MB/s: best of several passes over
     * 64 MiB of synthetic documents in memory, so that other load on the machine shows as
     * little as possible.
     */
    public static double chunkerMBps() {
        byte[] data = new SyntheticDocuments(SEED).bytes(64 << 20);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 12; i++) {
            FastCdcChunker chunker = new FastCdcChunker();
            long t = System.nanoTime();
            chunker.feed(ByteBuffer.wrap(data), chunk -> { });
            chunker.finish();
            best = Math.min(best, System.nanoTime() - t);
        }
        return mbps(data.length, best);
    }

    /** {@code BlockPipelineBench [workDir] [logicalBytes] [--chunker] [--store packed|filesystem]}; prints the result map. */
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "target/bench");
        long bytes = parseSize(args.length > 1 ? args[1] : "1g");
        int storeArg = List.of(args).indexOf("--store");
        Map<String, Object> result = run(dir, bytes, storeArg >= 0 && storeArg + 1 < args.length ? args[storeArg + 1] : "packed");
        if (List.of(args).contains("--chunker")) {
            result.put("chunkerOnlyMBps", chunkerMBps());
        }
        System.out.println(result);
    }
}
