package io.tidemark.deploy.bench;

import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.OplogApplier;
import io.tidemark.restore.snapshot.SnapshotRestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.snapshotter.DeltaPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.bench.BlockPipelineBench;
import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.bench.SyntheticHead;
import io.tidemark.snapshotter.blocks.BlockWriter;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;

/**
 * The delta cases of {@code tidemark bench snapshot}: on a synthetic head of {@code logicalBytes}
 * (the snapshot benchmark's documents), after a full snapshot,
 * <ul>
 * <li><b>scattered</b>: a {@code $set} ({@code $v: 2} diff) on 1% of the documents chosen
 *     uniformly at random, applied through the oplog applier, then a delta snapshot;
 * <li><b>append</b>: 1% new documents with increasing integer {@code _id}s, inserted through the
 *     applier, then a delta snapshot;
 * <li><b>chain restore</b>: the chain filled to its maximal depth with small scattered deltas,
 *     then its tip and the full snapshot at its base restored (merged, verified, read to the end).
 * </ul>
 * Each delta's stored bytes are compared with the ideal: the changed documents, as they are at the
 * snapshot, compressed by zstd at the configured level. MB/s of head size is the head's logical
 * bytes over the delta's wall-clock time. Medians of {@code runs}.
 */
public final class DeltaSnapshotBench {

    private static final double SHARE = 0.01;
    /** The changes of the deltas that only fill the chain to its depth. */
    private static final double FILL_SHARE = 0.001;
    private static final long T0 = 1_800_000_000L;

    private DeltaSnapshotBench() {
    }

    public static Map<String, Object> run(Path workDir, long logicalBytes, String store, int runs) {
        try (BenchStores env = new BenchStores(workDir, "delta", Map.of("TIDEMARK_BLOCKSTORE_TYPE", store));
             Head head = Head.open(env.root.resolve("head"))) {
            TidemarkConfig config = env.config;
            Stores stores = env.stores;
            BlockStore blocks = env.blocks;
            Map<String, Object> result = new LinkedHashMap<>();
            SyntheticHead.load(head, new SyntheticDocuments(20240917L), logicalBytes);
            head.compact();
            ManifestStore manifests = new ManifestStore(stores.blockstore().database());
            DeltaPolicy policy = DeltaPolicy.of(config.snapshots());
            SnapshotTaker taker = new SnapshotTaker(blocks, manifests, new SnapshotCatalog(stores.metadata()), env.cpu, env.io,
                    BlockWriter.Options.of(config.snapshots()), new DeltaPolicy(true, policy.maxDepth(), policy.maxChainShare()));
            String job = "bench-delta";
            SnapshotSummary full = taker.take(job, head).block(Duration.ofHours(2));
            long headBytes = full.logicalBytes();
            result.put("headLogicalBytes", headBytes);
            result.put("fullStoredBytes", full.storedBytes());
            Workload w = new Workload(head, config.snapshots().compressionLevel());

            List<Map<String, Object>> scattered = new ArrayList<>();
            List<Map<String, Object>> appended = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                scattered.add(delta(taker, job, head, headBytes, w.scatteredSets(SHARE, 100 + run)));
                appended.add(delta(taker, job, head, headBytes, w.appends(SHARE, 200 + run)));
            }
            result.put("scattered", median(scattered));
            result.put("scatteredRuns", scattered);
            result.put("append", median(appended));
            result.put("appendRuns", appended);

            // Fill the chain to its bound, then restore its tip and its base.
            SnapshotSummary tip = null;
            int seed = 300;
            while (true) {
                w.scatteredSets(FILL_SHARE, seed++);
                SnapshotSummary s = taker.take(job, head).block(Duration.ofHours(2));
                if (!s.manifest().isDelta()) {
                    break; // past the bound: the previous one was the end of a maximal chain
                }
                tip = s;
            }
            result.put("chainDepth", tip.manifest().chain().depth());
            result.put("chainDeltaBytes", tip.manifest().chain().chainBytes());
            BlockReader reader = new BlockReader(blocks, 8);
            restore(manifests, reader, full.snapshotId()); // warm-up
            List<double[]> fullRestore = new ArrayList<>();
            List<double[]> chainRestore = new ArrayList<>();
            for (int run = 0; run < runs; run++) {
                fullRestore.add(restore(manifests, reader, full.snapshotId()));
                chainRestore.add(restore(manifests, reader, tip.snapshotId()));
            }
            double f = medianOf(fullRestore, 0);
            double c = medianOf(chainRestore, 0);
            result.put("fullRestoreMBps", f);
            result.put("chainRestoreMBps", c);
            result.put("chainRestoreShareOfFull", Math.round(1000.0 * c / f) / 1000.0);
            // The same comparison per CPU-second: on a shared machine the wall-clock figures follow the
            // other processes' load, the CPU a restore costs does not.
            double fCpu = medianOf(fullRestore, 1);
            double cCpu = medianOf(chainRestore, 1);
            result.put("fullRestoreCpuSecondsPerGB", fCpu);
            result.put("chainRestoreCpuSecondsPerGB", cCpu);
            result.put("chainRestoreCpuShareOfFull", Math.round(1000.0 * fCpu / cCpu) / 1000.0);
            result.put("fullRestoreRunsMBps", fullRestore.stream().map(r -> r[0]).toList());
            result.put("chainRestoreRunsMBps", chainRestore.stream().map(r -> r[0]).toList());
            return result;
        }
    }

    /** One delta snapshot after {@code idealBytes} of changes: its figures. */
    private static Map<String, Object> delta(SnapshotTaker taker, String job, Head head, long headBytes, long idealBytes) {
        long cpuStart = BlockPipelineBench.processCpuNanos();
        SnapshotSummary s = taker.take(job, head).block(Duration.ofHours(2));
        long cpuNanos = BlockPipelineBench.processCpuNanos() - cpuStart;
        if (!s.manifest().isDelta()) {
            throw new IllegalStateException("the bench expected a delta snapshot, got " + s.manifest().chain());
        }
        double seconds = s.duration().toNanos() / 1e9;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("storedBytes", s.storedBytes());
        out.put("idealBytes", idealBytes);
        out.put("storedOverIdeal", Math.round(100.0 * s.storedBytes() / Math.max(1, idealBytes)) / 100.0);
        out.put("seconds", Math.round(seconds * 1000) / 1000.0);
        out.put("headMBps", Math.round(headBytes / 1e6 / seconds * 10) / 10.0);
        out.put("cpuSeconds", Math.round(cpuNanos / 1e6) / 1000.0);
        out.put("chainDepth", s.manifest().chain().depth());
        return out;
    }

    /**
     * Restores every namespace of a snapshot (merged, verified) and discards it: logical MB/s, and
     * the process's CPU-seconds per GB restored.
     */
    private static double[] restore(ManifestStore manifests, BlockReader reader, String snapshotId) {
        long start = System.nanoTime();
        long cpuStart = BlockPipelineBench.processCpuNanos();
        AtomicLong bytes = new AtomicLong();
        try (SnapshotRestoreSource source = SnapshotRestoreSource.open(manifests, reader, snapshotId).block(Duration.ofHours(1))) {
            for (Manifest.Namespace n : source.namespaces()) {
                source.documents(n).doOnNext(b -> bytes.addAndGet(b.remaining())).blockLast(Duration.ofHours(1));
            }
        }
        double cpuPerGB = (BlockPipelineBench.processCpuNanos() - cpuStart) / 1e9 / (bytes.get() / 1e9);
        return new double[] {Math.round(bytes.get() / 1e6 / ((System.nanoTime() - start) / 1e9) * 10) / 10.0,
                Math.round(cpuPerGB * 100) / 100.0};
    }

    private static Map<String, Object> median(List<Map<String, Object>> runs) {
        List<Map<String, Object>> sorted = new ArrayList<>(runs);
        sorted.sort(Comparator.comparingDouble(r -> (Double) r.get("seconds")));
        return sorted.get(sorted.size() / 2);
    }

    /** The median of column {@code column} of the runs. */
    private static double medianOf(List<double[]> runs, int column) {
        double[] sorted = runs.stream().mapToDouble(r -> r[column]).sorted().toArray();
        return sorted[sorted.length / 2];
    }

    /** Changes applied through the oplog applier, as a live head gets them (also used by {@link HistoryBench}). */
    static final class Workload {
        private final Head head;
        private final int compressionLevel;
        private final OplogApplier applier;
        private final List<NamespaceEntry> collections = new ArrayList<>();
        /** Every document's _id, per collection (not timed: the bench's own bookkeeping). */
        private final List<List<BsonValue>> ids = new ArrayList<>();
        private long nextId = 1;
        private int inc;
        private int second;

        Workload(Head head, int compressionLevel) {
            this.head = head;
            this.compressionLevel = compressionLevel;
            this.applier = new OplogApplier(head);
            try (HeadView view = head.openView()) {
                for (String ns : SyntheticDocuments.NAMESPACES) {
                    NamespaceEntry n = view.catalog().byName(ns).orElseThrow();
                    collections.add(n);
                    List<BsonValue> mine = new ArrayList<>();
                    try (HeadView.DocumentCursor c = view.documents(n)) {
                        while (c.hasNext()) {
                            mine.add(c.next().get("_id"));
                        }
                    }
                    ids.add(mine);
                }
            }
        }

        /** The ids of collection {@code c} ({@link SyntheticDocuments#NAMESPACES} order). */
        List<BsonValue> ids(int c) {
            return ids.get(c);
        }

        /** {@code $set} of a field on {@code share} of the documents at random; returns the ideal bytes. */
        long scatteredSets(double share, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            List<RawBsonDocument> batch = new ArrayList<>();
            List<Object[]> touched = new ArrayList<>();
            for (int c = 0; c < collections.size(); c++) {
                List<BsonValue> mine = ids.get(c);
                long n = Math.round(mine.size() * share);
                for (long i = 0; i < n; i++) {
                    BsonValue id = mine.get(random.nextInt(mine.size()));
                    BsonDocument diff = new BsonDocument("$v", new BsonInt32(2)).append("diff",
                            new BsonDocument("i", new BsonDocument("touched", new BsonInt64(seed * 1_000_000 + i))));
                    batch.add(entry("u", collections.get(c), diff, new BsonDocument("_id", id)));
                    touched.add(new Object[] {collections.get(c).id(), id});
                    flushIfFull(batch);
                }
            }
            apply(batch);
            return ideal(touched);
        }

        /** {@code share} of the documents again, new, with increasing integer _ids; returns the ideal bytes. */
        long appends(double share, long seed) {
            List<RawBsonDocument> batch = new ArrayList<>();
            List<Object[]> touched = new ArrayList<>();
            for (int c = 0; c < collections.size(); c++) {
                List<BsonValue> mine = ids.get(c);
                long n = Math.round(mine.size() * share);
                SplittableRandom random = new SplittableRandom(seed + c);
                int applied = mine.size(); // the ids after these are in the batch, not yet in the head
                for (long i = 0; i < n; i++) {
                    // A copy of an existing document of the collection under a new integer _id.
                    BsonValue like = mine.get(random.nextInt(applied));
                    BsonDocument doc = head.document(collections.get(c).id(), like).orElseThrow().decode(new BsonDocumentCodec());
                    BsonInt64 id = new BsonInt64(nextId++);
                    doc.put("_id", id);
                    batch.add(entry("i", collections.get(c), doc, new BsonDocument("_id", id)));
                    touched.add(new Object[] {collections.get(c).id(), id});
                    mine.add(id);
                    flushIfFull(batch);
                }
            }
            apply(batch);
            return ideal(touched);
        }

        private void flushIfFull(List<RawBsonDocument> batch) {
            if (batch.size() >= 1000) {
                apply(batch);
            }
        }

        private void apply(List<RawBsonDocument> batch) {
            if (!batch.isEmpty()) {
                applier.apply(batch, OplogApplier.Mode.STEADY);
                batch.clear();
            }
        }

        /** The changed documents as they are now, concatenated and compressed with zstd. */
        private long ideal(List<Object[]> touched) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (Object[] t : touched) {
                if (seen.add(t[0] + "/" + t[1])) {
                    RawBsonDocument d = head.document((Integer) t[0], (BsonValue) t[1]).orElseThrow();
                    var bb = d.getByteBuffer();
                    all.write(bb.array(), bb.position(), bb.limit() - bb.position());
                }
            }
            byte[] bytes = all.toByteArray();
            return com.github.luben.zstd.Zstd.compress(bytes, compressionLevel).length;
        }

        private RawBsonDocument entry(String op, NamespaceEntry ns, BsonDocument o, BsonDocument o2) {
            if (++inc > 10_000) {
                inc = 1;
                second++;
            }
            BsonDocument e = new BsonDocument("op", new BsonString(op)).append("ns", new BsonString(ns.ns()))
                    .append("ui", new BsonBinary(ns.uuid(), UuidRepresentation.STANDARD)).append("o", o).append("o2", o2)
                    .append("ts", new BsonTimestamp((int) T0 + second, inc)).append("t", new BsonInt64(1))
                    .append("v", new BsonInt64(2)).append("wall", new BsonDateTime((T0 + second) * 1000));
            return new RawBsonDocument(e, new BsonDocumentCodec());
        }
    }
}
