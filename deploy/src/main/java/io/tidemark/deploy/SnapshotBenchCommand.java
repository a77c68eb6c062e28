package io.tidemark.deploy;

import io.tidemark.snapshotter.bench.BlockPipelineBench;
import io.tidemark.snapshotter.bench.SnapshotBench;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

@Command(name = "snapshot", description = "Full, unchanged and 1%%-changed snapshots of a synthetic head (default 1 GB).")
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

    @Override
    public void run() {
        System.out.println(new JsonObject(SnapshotBench.run(dir, BlockPipelineBench.parseSize(bytes), store, runs)).encodePrettily());
    }
}
