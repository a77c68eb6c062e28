package io.tidemark.deploy.bench;

import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Directories;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A benchmark's own stores in a fresh directory: the embedded store, a block store of the
 * configured type, and CPU and I/O schedulers sized to the cores. Closing removes it all.
 */
final class BenchStores implements AutoCloseable {

    final Path root;
    final TidemarkConfig config;
    final Vertx vertx = VertxFactory.create();
    final Scheduler cpu;
    final Scheduler io;
    final Stores stores;
    final BlockStore blocks;

    BenchStores(Path workDir, String name, Map<String, String> env) {
        int cores = Runtime.getRuntime().availableProcessors();
        cpu = Schedulers.newParallel("bench-" + name + "-cpu", cores, true);
        io = Schedulers.newBoundedElastic(4 * cores, 10_000, "bench-" + name + "-io", 60, true);
        try {
            root = Files.createTempDirectory(Files.createDirectories(workDir), name + "-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> all = new HashMap<>(env);
        all.put("TIDEMARK_DATADIR", root.toString());
        config = ConfigLoader.load(null, all);
        stores = await(Stores.open(vertx, config));
        blocks = BlockStores.open(config, stores, io);
    }

    @Override
    public void close() {
        if (blocks instanceof PackBlockStore packed) {
            packed.close();
        }
        stores.close();
        await(vertx.close());
        cpu.dispose();
        io.dispose();
        Directories.deleteTree(root);
    }

    static double median(java.util.List<Double> values) {
        java.util.List<Double> sorted = new java.util.ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    static <T> T await(io.vertx.core.Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
