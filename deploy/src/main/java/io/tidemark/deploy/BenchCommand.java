package io.tidemark.deploy;

import io.tidemark.deploy.bench.ApplyBenchRunner;
import io.tidemark.deploy.bench.IngestBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Benchmarks; each prints JSON.",
        subcommands = {BenchCommand.Ingest.class, BenchCommand.Apply.class, SnapshotBenchCommand.class,
                RestoreBenchCommand.class, MoveBenchCommand.class})
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
