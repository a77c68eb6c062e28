package io.tidemark.deploy;

import io.tidemark.snapshotter.bench.BlockPipelineBench;
import io.tidemark.snapshotter.bench.SnapshotBench;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

@Command(name = "snapshot", description = "Full, unchanged and 1%%-changed snapshots of a synthetic head (default 1 GB), and delta snapshots of scattered updates and appends.")
final class SnapshotBenchCommand implements Runnable {

    @Option(names = "--bytes", defaultValue = "1g", description = "Logical size of the synthetic head, e.g. 1g, 512m.")
    String bytes;

    @Option(names = "--dir", defaultValue = "./tidemark-bench", description = "Work directory (head, block store); removed afterwards.")
    Path dir;

    @Option(names = "--store", defaultValue = "packed",
            description = "Block store: packed (pack files), filesystem (a file per block) or mongodb (the embedded store).")
    String store;

    @Option(names = "--runs", defaultValue = "3", description = "Full snapshots, each into an empty store; the median is reported.")
    int runs;

    @Option(names = "--cases", defaultValue = "full,delta", split = ",",
            description = "full: full, unchanged and 1%%-changed snapshots; delta: scattered-update and append delta snapshots and a maximal chain's restore.")
    java.util.List<String> cases;

    @Override
    public void run() {
        long size = BlockPipelineBench.parseSize(bytes);
        java.util.Map<String, Object> result = new java.util.LinkedHashMap<>();
        if (cases.contains("full")) {
            result.putAll(SnapshotBench.run(dir, size, store, runs));
        }
        if (cases.contains("delta")) {
            result.put("delta", io.tidemark.deploy.bench.DeltaSnapshotBench.run(dir, size, store, runs));
        }
        System.out.println(new JsonObject(result).encodePrettily());
    }
}
