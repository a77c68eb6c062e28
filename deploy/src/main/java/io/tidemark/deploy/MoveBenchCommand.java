package io.tidemark.deploy;

import io.tidemark.deploy.bench.MoveBench;
import io.tidemark.snapshotter.bench.BlockPipelineBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

@Command(name = "move", description = "The data path of moving a job: a head (default 1 GB) rebuilt from its snapshot plus the"
        + " stored oplog after it; rebuild MB/s and catch-up entries/s.")
final class MoveBenchCommand implements Runnable {

    @Option(names = "--bytes", defaultValue = "1g", description = "Logical size of the synthetic head, e.g. 1g, 256m.")
    String bytes;

    @Option(names = "--entries", defaultValue = "200000", description = "Oplog entries after the snapshot, replayed by each rebuild.")
    int entries;

    @Option(names = "--runs", defaultValue = "3", description = "Rebuilds; the median is reported.")
    int runs;

    @Option(names = "--dir", defaultValue = "./tidemark-bench", description = "Work directory (heads, stores); removed afterwards.")
    Path dir;

    @Override
    public void run() {
        System.out.println(MoveBench.run(dir, BlockPipelineBench.parseSize(bytes), entries, runs).encodePrettily());
    }
}
