package io.tidemark.deploy.bench;

import io.tidemark.applier.Head;
import io.tidemark.restore.rebuild.HeadRebuilds;
import io.tidemark.restore.rebuild.RebuildResult;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Directories;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.bench.SyntheticHead;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;

/**
 * {@code tidemark bench move}: the data path of moving a job to another daemon. A synthetic head
 * of {@code logicalBytes} (the snapshot benchmark's documents) is snapshotted into the configured
 * block store, {@code catchUpEntries} oplog entries after it (inserts and {@code $v: 2} updates)
 * go into the oplog store, and the head is rebuilt from both ({@link HeadRebuilds}) into a new
 * directory, {@code runs} times. Reports the rebuild's MB/s (snapshot bytes loaded into the new
 * head over the load's wall-clock time) and the catch-up's entries/s, medians of the runs.
 */
public final class MoveBench {

    private static final int BATCH = 1000;
    private static final String JOB = "bench-move";

    private MoveBench() {
    }

    public static JsonObject run(Path workDir, long logicalBytes, int catchUpEntries, int runs) {
        try (BenchStores env = new BenchStores(workDir, "move", Map.of())) {
            JsonObject out = new JsonObject();
            SnapshotTaker taker = new SnapshotTaker(env.blocks, new ManifestStore(env.stores.blockstore().database()),
                    new SnapshotCatalog(env.stores.metadata()), env.cpu, env.io, BlockWriter.Options.of(env.config.snapshots()));
            try (Head head = Head.open(env.root.resolve("source-head"))) {
                SyntheticHead.load(head, new SyntheticDocuments(20241204L), logicalBytes);
                SnapshotSummary s = taker.take(JOB, head).block(Duration.ofHours(2));
                out.put("headLogicalBytes", s.logicalBytes()).put("snapshotStoredBytes", s.storedBytes())
                        .put("snapshotSeconds", round(s.duration().toNanos() / 1e9));
                storeOplog(env.stores, OpTime.of(head.appliedTs()), catchUpEntries);
                out.put("catchUpEntries", catchUpEntries);
            }
            Directories.deleteTree(env.root.resolve("source-head"));
            HeadRebuilds rebuilds = new HeadRebuilds(env.stores, env.blocks);
            List<Double> mbps = new ArrayList<>();
            List<Double> eps = new ArrayList<>();
            JsonArray all = new JsonArray();
            for (int run = 0; run < runs; run++) {
                Path target = env.root.resolve("heads").resolve("run-" + run);
                RebuildResult r = rebuilds.rebuild(JOB, target).block(Duration.ofHours(2));
                if (r.entriesReplayed() != catchUpEntries) {
                    throw new IllegalStateException("the rebuild replayed " + r.entriesReplayed() + " entries, not " + catchUpEntries);
                }
                mbps.add(round(r.loadMBps()));
                eps.add((double) Math.round(r.replayEntriesPerSecond()));
                all.add(r.toJson().put("rebuildMBps", round(r.loadMBps()))
                        .put("catchUpEntriesPerSecond", Math.round(r.replayEntriesPerSecond())));
                Directories.deleteTree(target);
            }
            return out.put("rebuildMBps", BenchStores.median(mbps)).put("catchUpEntriesPerSecond", BenchStores.median(eps))
                    .put("targetRebuildMBps", 150).put("cores", Runtime.getRuntime().availableProcessors()).put("runs", all);
        }
    }

    /**
     * Inserts of new documents into every synthetic collection and {@code $v: 2} updates of those,
     * stored as the oplog store holds a job's oplog: batches chained from the snapshot's position.
     */
    private static void storeOplog(Stores stores, OpTime after, int entries) {
        List<String> namespaces = SyntheticDocuments.NAMESPACES;
        OpTime prev = after;
        ByteArrayOutputStream batch = new ByteArrayOutputStream();
        int inBatch = 0;
        OpTime first = null;
        long second = after.seconds() + 1;
        int inc = 0;
        String pad = "x".repeat(200);
        for (int i = 0; i < entries; i++) {
            if (++inc > 10_000) {
                second++;
                inc = 1;
            }
            // Triples of entries in one collection (the collections in turn): two inserts of new
            // documents, then a $v: 2 update of the first.
            String ns = namespaces.get(i / 3 % namespaces.size());
            BsonBinary ui = new BsonBinary(UUID.nameUUIDFromBytes(ns.getBytes()), UuidRepresentation.STANDARD);
            boolean update = i % 3 == 2;
            BsonInt64 id = new BsonInt64(1_000_000_000_000L + (update ? i - 2 : i));
            BsonDocument e = new BsonDocument("op", new BsonString(update ? "u" : "i")).append("ns", new BsonString(ns)).append("ui", ui);
            if (update) {
                e.append("o", new BsonDocument("$v", new BsonInt32(2)).append("diff",
                        new BsonDocument("u", new BsonDocument("n", new BsonInt64(i)))));
            } else {
                e.append("o", new BsonDocument("_id", id).append("n", new BsonInt64(i)).append("pad", new BsonString(pad)));
            }
            e.append("o2", new BsonDocument("_id", id));
            OpTime ts = new OpTime(second, inc);
            e.append("ts", ts.toBson()).append("t", new BsonInt64(1)).append("v", new BsonInt64(2))
                    .append("wall", new BsonDateTime(second * 1000));
            RawBsonDocument raw = new RawBsonDocument(e, new BsonDocumentCodec());
            var bb = raw.getByteBuffer();
            batch.write(bb.array(), bb.position(), bb.limit() - bb.position());
            first = first == null ? ts : first;
            if (++inBatch == BATCH || i == entries - 1) {
                stores.oplog().store(JOB, prev, first, ts, inBatch, batch.toByteArray(), "bench").block(Duration.ofMinutes(5));
                prev = ts;
                first = null;
                inBatch = 0;
                batch.reset();
            }
        }
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }
}
