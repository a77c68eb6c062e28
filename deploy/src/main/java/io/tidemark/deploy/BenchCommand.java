package io.tidemark.deploy;

import io.tidemark.deploy.bench.IngestBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Benchmarks; each prints JSON.",
        subcommands = {BenchCommand.Ingest.class})
final class BenchCommand {

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
