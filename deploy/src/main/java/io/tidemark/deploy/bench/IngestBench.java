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
import org.bson.BsonBinaryWriter;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonBinary;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;
import reactor.core.publisher.Flux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code tidemark bench ingest}: the agent's own batching and HTTPS client send pre-built oplog
 * entries (insert entries shaped as MongoDB writes them) to a server on loopback that stores them
 * in the embedded oplog store. Entries are built before the clock starts, so the figure is the
 * shipping path and the service, not the generator.
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
            deleteTree(dir);
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
        List<RawBsonDocument> oplog = entries(start, entries, entryBytes);
        long bytes = oplog.stream().mapToLong(d -> d.getByteBuffer().remaining()).sum();
        OplogShipper shipper = new OplogShipper(client, job, config.agent().batchMaxBytes(),
                Duration.ofMillis(config.agent().batchMaxMillis()));
        OpTime last = OpTime.of(oplog.get(oplog.size() - 1).getTimestamp("ts"));
        long t0 = System.nanoTime();
        OpTime acked = shipper.ship(Flux.fromIterable(oplog).concatWith(Flux.never()), start, a -> { })
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

    /** Insert entries as MongoDB 6–8 writes them, padded to about {@code entryBytes}. */
    static List<RawBsonDocument> entries(OpTime start, int n, int entryBytes) {
        List<RawBsonDocument> out = new ArrayList<>(n);
        BsonBinary ui = new BsonBinary(UUID.randomUUID());
        BasicOutputBuffer buf = new BasicOutputBuffer(512);
        BsonDocumentCodec codec = new BsonDocumentCodec();
        String pad = "";
        for (int i = 0; i < n; i++) {
            BsonObjectId id = new BsonObjectId();
            BsonDocument o = new BsonDocument("_id", id)
                    .append("customerId", new BsonInt32(i % 5000))
                    .append("status", new BsonString("new"))
                    .append("total", new BsonDouble(i % 997 / 7.0))
                    .append("note", new BsonString(pad));
            BsonDocument entry = new BsonDocument("op", new BsonString("i"))
                    .append("ns", new BsonString("bench.orders"))
                    .append("ui", ui)
                    .append("o", o)
                    .append("o2", new BsonDocument("_id", id))
                    .append("ts", new OpTime(start.seconds() + 1 + i / 10_000, i % 10_000).toBson())
                    .append("t", new BsonInt64(1))
                    .append("v", new BsonInt64(2))
                    .append("wall", new BsonDateTime(1_700_000_000_000L + i));
            buf.truncateToPosition(0);
            codec.encode(new BsonBinaryWriter(buf), entry, EncoderContext.builder().build());
            if (i == 0 && buf.size() < entryBytes) {
                // Size the padding once from the real encoding, then rebuild the first entry.
                pad = "x".repeat(entryBytes - buf.size());
                i--;
                continue;
            }
            out.add(new RawBsonDocument(buf.toByteArray()));
        }
        return out;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind is not worth failing a benchmark for
        }
    }
}
