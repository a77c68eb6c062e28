package io.tidemark.deploy;

import io.tidemark.deploy.bench.ApplyBenchRunner;
import io.tidemark.deploy.bench.IngestBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Benchmarks; each prints JSON.",
        subcommands = {BenchCommand.Ingest.class, BenchCommand.Apply.class, SnapshotBenchCommand.class,
                RestoreBenchCommand.class, BenchCommand.History.class, MoveBenchCommand.class})
final class BenchCommand {

    @Command(name = "apply", description = "Oplog application to a head: an insert-heavy and a $v:2-update-heavy mix.")
    static final class Apply implements Runnable {
        @Option(names = "--entries", defaultValue = "300000", description = "Oplog entries per run.")
        int entries;

        @Option(names = "--runs", defaultValue = "3", description = "Runs per mix; the median is reported.")
        int runs;

        @Option(names = "--mix", split = ",", defaultValue = "insert,update-v2", description = "Mixes to run.")
        java.util.List<String> mixes;

        @Override
        public void run() {
            System.out.println(ApplyBenchRunner.run(mixes, entries, runs).encodePrettily());
        }
    }

    @Command(name = "history", description = "Latency of one document's history lookups against a synthetic head (default 1 GB) and a delta chain.")
    static final class History implements Runnable {
        @Option(names = "--bytes", defaultValue = "1g", description = "Logical size of the synthetic head, e.g. 1g, 512m.")
        String bytes;

        @Option(names = "--dir", defaultValue = "./tidemark-bench", description = "Work directory (head, block store); removed afterwards.")
        java.nio.file.Path dir;

        @Option(names = "--store", defaultValue = "packed", description = "Block store: packed, filesystem or mongodb.")
        String store;

        @Option(names = "--deltas", defaultValue = "3", description = "Delta snapshots after the full one (0.1%% scattered updates each).")
        int deltas;

        @Option(names = "--lookups", defaultValue = "300", description = "Timed lookups of random documents.")
        int lookups;

        @Override
        public void run() {
            System.out.println(new io.vertx.core.json.JsonObject(io.tidemark.deploy.bench.HistoryBench.run(dir,
                    io.tidemark.snapshotter.bench.BlockPipelineBench.parseSize(bytes), store, deltas, lookups)).encodePrettily());
        }
    }

    @Command(name = "ingest", description = "Sustained oplog ingest over HTTPS loopback into the embedded oplog store.")
    static final class Ingest implements Runnable {
        @Option(names = "--entries", defaultValue = "1000000", description = "Oplog entries per run.")
        int entries;

        @Option(names = "--entry-bytes", defaultValue = "300", description = "Approximate size of one entry.")
        int entryBytes;

        @Option(names = "--runs", defaultValue = "3", description = "Runs; the median is reported.")
        int runs;

        @Override
        public void run() {
            System.out.println(IngestBench.run(entries, entryBytes, runs).encodePrettily());
        }
    }
}
