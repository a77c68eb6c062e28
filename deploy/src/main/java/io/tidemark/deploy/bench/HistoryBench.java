package io.tidemark.deploy.bench;

import io.tidemark.applier.Head;
import io.tidemark.restore.history.DocumentHistory;
import io.tidemark.restore.pit.PitWindows;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Directories;
import io.tidemark.shared.util.VertxFactory;
import io.tidemark.snapshotter.DeltaPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.bench.SyntheticHead;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * {@code tidemark bench history}: the latency of {@code tidemark history} lookups (the server side,
 * {@link DocumentHistory}) against a synthetic head of {@code logicalBytes} (the snapshot
 * benchmark's documents), snapshotted whole and then as a chain of {@code deltas} delta snapshots
 * of 0.1% scattered updates each, through the real stack (RocksDB head, embedded store for
 * manifests and catalog, the configured block store). Each lookup asks for a random existing
 * document of a random collection and reads its version in every snapshot: one page and one or
 * two blocks per chain level, however large the namespace. Reported: median, p99 and max latency
 * and the blocks each lookup read.
 */
public final class HistoryBench {

    private HistoryBench() {
    }

    public static Map<String, Object> run(Path workDir, long logicalBytes, String store, int deltas, int lookups) {
        int cores = Runtime.getRuntime().availableProcessors();
        Scheduler cpu = Schedulers.newParallel("bench-history-cpu", cores, true);
        Scheduler io = Schedulers.newBoundedElastic(4 * cores, 10_000, "bench-history-io", 60, true);
        Vertx vertx = VertxFactory.create();
        Path root;
        try {
            root = Files.createTempDirectory(Files.createDirectories(workDir), "history-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TidemarkConfig config = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", root.toString(),
                "TIDEMARK_BLOCKSTORE_TYPE", store));
        Stores stores = await(Stores.open(vertx, config));
        BlockStore blocks = null;
        try (Head head = Head.open(root.resolve("head"))) {
            Map<String, Object> result = new LinkedHashMap<>();
            long t0 = System.nanoTime();
            SyntheticHead.load(head, new SyntheticDocuments(20240917L), logicalBytes);
            head.compact();
            blocks = BlockStores.open(config, stores, io);
            ManifestStore manifests = new ManifestStore(stores.blockstore().database());
            SnapshotCatalog catalog = new SnapshotCatalog(stores.metadata());
            SnapshotTaker taker = new SnapshotTaker(blocks, manifests, catalog, cpu, io,
                    BlockWriter.Options.of(config.snapshots()), new DeltaPolicy(true, Math.max(deltas, 1), 100.0));
            String job = "bench-history";
            await(stores.metadata().insert("jobs", new JsonObject().put("_id", job).put("name", job).put("state", "ACTIVE")));
            SnapshotSummary full = taker.take(job, head).block(Duration.ofHours(2));
            DeltaSnapshotBench.Workload w = new DeltaSnapshotBench.Workload(head, config.snapshots().compressionLevel());
            int depth = 0;
            for (int i = 0; i < deltas; i++) {
                w.scatteredSets(0.001, 500 + i);
                depth = taker.take(job, head).block(Duration.ofHours(2)).manifest().chain().depth();
            }
            result.put("headLogicalBytes", full.logicalBytes());
            result.put("headDocuments", full.manifest().documents());
            result.put("fullBlocks", full.manifest().blocks());
            result.put("snapshots", 1 + deltas);
            result.put("chainDepth", depth);
            result.put("setupSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);

            DocumentHistory history = new DocumentHistory(stores.jobs(), catalog, manifests, stores.oplog(), blocks,
                    new PitWindows(stores.jobs(), catalog, stores.oplog(), Duration.ofHours(24), Clock.systemUTC()));
            SplittableRandom random = new SplittableRandom(7);
            List<Double> millis = new ArrayList<>();
            long blocksRead = 0;
            int found = 0;
            for (int i = -20; i < lookups; i++) { // the first 20 warm the JIT and are not counted
                int c = random.nextInt(SyntheticDocuments.NAMESPACES.size());
                List<BsonValue> ids = w.ids(c);
                BsonValue id = ids.get(random.nextInt(ids.size()));
                String idJson = new BsonDocument("_id", id).toJson().replaceFirst("^\\{\\s*\"_id\"\\s*:\\s*", "").replaceFirst("\\s*}$", "");
                long s = System.nanoTime();
                JsonObject h = history.history(job, SyntheticDocuments.NAMESPACES.get(c), idJson).block(Duration.ofMinutes(1));
                double ms = (System.nanoTime() - s) / 1e6;
                if (i >= 0) {
                    millis.add(ms);
                    blocksRead += h.getInteger("blocksRead");
                    found += h.getJsonArray("versions").stream().anyMatch(v -> ((JsonObject) v).getBoolean("exists")) ? 1 : 0;
                }
            }
            millis.sort(Double::compare);
            result.put("lookups", lookups);
            result.put("lookupsFound", found);
            result.put("latencyMedianMillis", round(millis.get(millis.size() / 2)));
            result.put("latencyP99Millis", round(millis.get(Math.min(millis.size() - 1, (int) Math.ceil(millis.size() * 0.99) - 1))));
            result.put("latencyMaxMillis", round(millis.get(millis.size() - 1)));
            result.put("blocksReadPerLookup", round((double) blocksRead / lookups));
            return result;
        } finally {
            if (blocks instanceof AutoCloseable closeable) {
                try {
                    closeable.close();
                } catch (Exception ignored) {
                    // the work directory goes next
                }
            }
            stores.close();
            await(vertx.close());
            cpu.dispose();
            io.dispose();
            Directories.deleteTree(root);
        }
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static <T> T await(io.vertx.core.Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
