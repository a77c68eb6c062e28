package io.tidemark.deploy;

import io.tidemark.deploy.bench.RestoreBench;
import io.tidemark.snapshotter.bench.BlockPipelineBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

@Command(name = "restore", description = "A snapshot restore of a synthetic head (default 1 GB) over HTTPS loopback, plain and gzipped.")
final class RestoreBenchCommand implements Runnable {

    @Option(names = "--bytes", defaultValue = "1g", description = "Logical size of the synthetic head, e.g. 1g, 512m.")
    String bytes;

    @Option(names = "--runs", defaultValue = "3", description = "Timed restores per variant; the median is reported.")
    int runs;

    @Option(names = "--dir", defaultValue = "./tidemark-bench", description = "Work directory (head, block store); removed afterwards.")
    Path dir;

    @Override
    public void run() {
        System.out.println(RestoreBench.run(dir, BlockPipelineBench.parseSize(bytes), runs).encodePrettily());
    }
}
