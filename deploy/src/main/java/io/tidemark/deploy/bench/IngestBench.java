package io.tidemark.deploy.bench;

import io.tidemark.agent.IngestClient;
import io.tidemark.agent.OplogShipper;
import io.tidemark.deploy.TidemarkServer;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.util.ProcessMemory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * {@code tidemark bench ingest}: the agent's own batching and HTTPS client send oplog entries
 * (inserts shaped as MongoDB writes them) to a server on loopback that stores them in the embedded
 * oplog store. Entries are stamped from pre-encoded templates, so the figure is the shipping path
 * and the service rather than a BSON encoder, and memory stays that of the pipeline.
 */
public final class IngestBench {

    private IngestBench() {
    }

    public static JsonObject run(int entries, int entryBytes, int runs) {
        Path dir;
        try {
            dir = Files.createTempDirectory("tidemark-bench-ingest");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        TidemarkConfig config = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", dir.toString(),
                "TIDEMARK_INGEST_PORT", "0", "TIDEMARK_API_PORT", "0", "TIDEMARK_INGEST_HOST", "127.0.0.1",
                "TIDEMARK_API_HOST", "127.0.0.1"));
        JsonArray results = new JsonArray();
        try (TidemarkServer server = TidemarkServer.start(config)) {
            JsonObject creds = CredentialsFile.read(config.dataPath());
            IngestClient client = new IngestClient(server.vertx(), server.ingestUrl(), creds.getString("agentKey"),
                    creds.getString("certificateSha256"), null);
            // One unreported run first, so that the reported ones measure compiled code, not the JIT.
            once(client, config, Math.min(entries, 200_000), entryBytes, -1);
            for (int run = 0; run < runs; run++) {
                results.add(once(client, config, entries, entryBytes, run));
                System.gc();
            }
            client.close();
        } finally {
            io.tidemark.shared.util.Directories.deleteTreeQuietly(dir);
        }
        List<JsonObject> sorted = new ArrayList<>();
        results.forEach(r -> sorted.add((JsonObject) r));
        sorted.sort(Comparator.comparingDouble(r -> r.getDouble("entriesPerSecond")));
        JsonObject median = sorted.get(sorted.size() / 2);
        return new JsonObject()
                .put("benchmark", "ingest")
                .put("transport", "HTTPS loopback, embedded oplog store")
                .put("entries", entries)
                .put("entryBytes", entryBytes)
                .put("batchMaxBytes", config.agent().batchMaxBytes())
                .put("runs", results)
                .put("medianEntriesPerSecond", median.getDouble("entriesPerSecond"))
                .put("medianMBPerSecond", median.getDouble("mbPerSecond"))
                .put("peakRssBytes", ProcessMemory.peakRssBytes())
                .put("cores", Runtime.getRuntime().availableProcessors());
    }

    private static JsonObject once(IngestClient client, TidemarkConfig config, int entries, int entryBytes, int run) {
        OpTime start = new OpTime(1_700_000_000L, 0);
        String job = client.register("bench-ingest-" + run + "-" + System.nanoTime(), "bench").toCompletionStage()
                .toCompletableFuture().join().getString("job");
        client.beginSync(job, start, start).toCompletionStage().toCompletableFuture().join();
        EntryTemplates templates = EntryTemplates.build(entryBytes);
        long bytes = (long) templates.entryBytes() * entries;
        OplogShipper shipper = new OplogShipper(client, job, config.agent().batchMaxBytes(),
                Duration.ofMillis(config.agent().batchMaxMillis()));
        OpTime last = EntryTemplates.position(start, entries - 1);
        long t0 = System.nanoTime();
        OpTime acked = shipper.ship(Flux.range(0, entries).map(i -> templates.entry(start, i)).concatWith(Flux.never()), start, a -> { })
                .takeUntil(last::equals)
                .blockLast(Duration.ofMinutes(30));
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!last.equals(acked)) {
            throw new IllegalStateException("the run ended at " + acked + ", not " + last);
        }
        return new JsonObject().put("run", run + 1).put("entries", entries).put("seconds", round(seconds))
                .put("entriesPerSecond", Math.round(entries / seconds))
                .put("mbPerSecond", round(bytes / seconds / 1e6))
                .put("bytes", bytes);
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
