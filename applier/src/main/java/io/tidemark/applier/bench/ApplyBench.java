package io.tidemark.applier.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;

import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.types.ObjectId;

import io.tidemark.applier.Head;
import io.tidemark.applier.HeadMemory;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.NamespaceType;
import io.tidemark.applier.OplogApplier;

/**
 * Measures oplog application throughput on a real head: "insert" applies inserts of ~300-byte
 * order documents; "update-v2" applies $v:2 deltas touching a few fields of documents already in
 * the head. Entries go to the applier in batches cut as the agent cuts them under load, at its
 * default {@code agent.batchMaxBytes}, which is also how the oplog store hands them to a head; each
 * batch is built before the clock restarts. The clock covers applying them in STEADY mode (so
 * every insert also checks the _id is new and every update reads its document).
 */
public final class ApplyBench {
    /** Entries are generated this many at a time and gathered into batches of the agent's size. */
    private static final int STEP = 100;
    private static final int MAX_PRELOADED = 200_000;
    private static final long T0 = 1_700_000_000L;

    private ApplyBench() {
    }

    /** One run on a head with memory of its own. */
    public static Map<String, Object> run(Path workDir, String mix, int entries) {
        try (HeadMemory memory = serverMemory()) {
            return run(workDir, mix, entries, memory);
        }
    }

    /**
     * The memory budget a server gives its heads: the defaults, or TIDEMARK_HEADS_* variables. A
     * server creates it once and its heads share it; runs that share one measure what a server does.
     */
    public static HeadMemory serverMemory() {
        return HeadMemory.of(io.tidemark.shared.config.ConfigLoader.load(null, System.getenv()).heads());
    }

    /** One run on a new head within {@code memory}; the head is deleted afterwards. */
    public static Map<String, Object> run(Path workDir, String mix, int entries, HeadMemory memory) {
        Path dir = workDir.resolve("head-" + mix + "-" + System.nanoTime());
        try {
            return measure(dir, mix, entries, memory);
        } finally {
            // Heads of earlier runs would only weigh on the disk and the page cache of later ones.
            io.tidemark.shared.util.Directories.deleteTreeQuietly(dir);
        }
    }

    private static Map<String, Object> measure(Path dir, String mix, int entries, HeadMemory memory) {
        UUID uuid = UUID.randomUUID();
        SplittableRandom random = new SplittableRandom(42);
        var config = io.tidemark.shared.config.ConfigLoader.load(null, System.getenv());
        long hitsBefore = memory.documentCacheHits();
        long missesBefore = memory.documentCacheMisses();
        try (Head head = Head.open(dir, memory)) {
            NamespaceEntry ns = head.createNamespace("bench", "orders", uuid, NamespaceType.COLLECTION,
                    new RawBsonDocument(new BsonDocument(), new BsonDocumentCodec()),
                    List.of(new RawBsonDocument(new BsonDocument("v", new BsonInt32(2))
                            .append("key", new BsonDocument("_id", new BsonInt32(1))).append("name", new BsonString("_id_")),
                            new BsonDocumentCodec())));
            Batches oplog = switch (mix) {
                case "insert" -> (from, to) -> inserts(uuid, from, to, random);
                case "update-v2" -> {
                    int docs = Math.min(entries, MAX_PRELOADED);
                    List<RawBsonDocument> seed = new ArrayList<>(docs);
                    for (int i = 0; i < docs; i++) {
                        seed.add(raw(order(i, random)));
                    }
                    head.bulkLoad(ns.id(), seed.iterator());
                    yield (from, to) -> updates(uuid, from, to, docs, random);
                }
                default -> throw new IllegalArgumentException("unknown mix " + mix + " (insert, update-v2)");
            };
            OplogApplier applier = new OplogApplier(head);
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long nanos = 0;
            long cpuNanos = 0;
            int batchBytes = config.agent().batchMaxBytes();
            for (int i = 0; i < entries; ) {
                // Built outside the clock, one batch at a time, so that memory holds one batch of
                // entries rather than the whole run's.
                List<RawBsonDocument> batch = new ArrayList<>();
                long bytes = 0;
                while (i < entries && bytes < batchBytes) {
                    for (RawBsonDocument e : oplog.build(i, Math.min(entries, i + STEP))) {
                        batch.add(e);
                        bytes += e.getByteBuffer().remaining();
                    }
                    i = Math.min(entries, i + STEP);
                }
                long cpuStart = os.getProcessCpuTime();
                long start = System.nanoTime();
                applier.apply(batch, OplogApplier.Mode.STEADY);
                nanos += System.nanoTime() - start;
                cpuNanos += os.getProcessCpuTime() - cpuStart;
            }
            double seconds = nanos / 1e9;
            double cpuSeconds = cpuNanos / 1e9;
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("mix", mix);
            out.put("entries", entries);
            out.put("seconds", seconds);
            out.put("entriesPerSecond", entries / seconds);
            // CPU time of the whole process (applier thread plus RocksDB flush/compaction threads) while
            // applying: on a shared machine this shows how much of the wall time was spent waiting.
            out.put("cpuSeconds", cpuSeconds);
            out.put("peakRssBytes", peakRssBytes());
            out.put("headBytes", head.approximateSizeOnDisk());
            out.put("documents", head.documentCount(ns.id()));
            long hits = memory.documentCacheHits() - hitsBefore;
            long lookups = hits + memory.documentCacheMisses() - missesBefore;
            out.put("documentCacheHitRatio", lookups == 0 ? 0.0 : (double) hits / lookups);
            return out;
        }
    }

    /** VmHWM of this process (peak resident set), or -1 where /proc is not available. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException unavailable) {
            return -1;
        }
        return -1;
    }

    private static RawBsonDocument raw(BsonDocument d) {
        return new RawBsonDocument(d, new BsonDocumentCodec());
    }

    private static final String[] SKUS = {"SKU-1029-AX", "SKU-2230-BQ", "SKU-7781-ZZ", "SKU-0042-KL"};
    private static final String[] CITIES = {"Amsterdam", "Lisbon", "Toronto", "Melbourne", "Osaka"};
    private static final String[] STATES = {"new", "paid", "packed", "shipped", "delivered"};

    /** A ~300-byte order document, as an e-commerce workload stores them. */
    static BsonDocument order(int i, SplittableRandom r) {
        return new BsonDocument("_id", new BsonObjectId(new ObjectId((int) T0 + i / 1000, i)))
                .append("customerId", new BsonInt64(1_000_000L + r.nextInt(500_000)))
                .append("sku", new BsonString(SKUS[r.nextInt(SKUS.length)]))
                .append("name", new BsonString("Stainless steel water bottle, 750 ml"))
                .append("qty", new BsonInt32(1 + r.nextInt(9)))
                .append("price", new BsonDouble(5 + r.nextInt(9500) / 100.0))
                .append("status", new BsonDocument("state", new BsonString("new"))
                        .append("updatedAt", new BsonDateTime(T0 * 1000 + i)))
                .append("tags", new BsonArray(List.of(new BsonString("outdoor"), new BsonString("gift"), new BsonString("eco"))))
                .append("address", new BsonDocument("street", new BsonString(r.nextInt(999) + " Long Harbour Road"))
                        .append("city", new BsonString(CITIES[r.nextInt(CITIES.length)]))
                        .append("zip", new BsonString(Integer.toString(10000 + r.nextInt(89999))))
                        .append("country", new BsonString("NL")))
                .append("createdAt", new BsonDateTime(T0 * 1000 + i))
                .append("giftWrap", BsonBoolean.valueOf(r.nextBoolean()))
                .append("note", new BsonString("Leave at the front desk if nobody answers"));
    }

    private static BsonDocument entry(int i, String op, UUID uuid, BsonDocument o, BsonDocument o2) {
        BsonDocument e = new BsonDocument("op", new BsonString(op))
                .append("ns", new BsonString("bench.orders"))
                .append("ui", new BsonBinary(uuid, UuidRepresentation.STANDARD))
                .append("o", o);
        if (o2 != null) {
            e.append("o2", o2);
        }
        return e.append("ts", new BsonTimestamp((int) (T0 + 1 + i / 50_000), i % 50_000 + 1))
                .append("t", new BsonInt64(1))
                .append("v", new BsonInt64(2))
                .append("wall", new BsonDateTime(T0 * 1000 + i));
    }

    /** Entries {@code [from, to)} of a run's oplog. */
    @FunctionalInterface
    private interface Batches {
        List<RawBsonDocument> build(int from, int to);
    }

    static List<RawBsonDocument> inserts(UUID uuid, int from, int to, SplittableRandom r) {
        List<RawBsonDocument> out = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            BsonDocument doc = order(i, r);
            out.add(raw(entry(i, "i", uuid, doc, new BsonDocument("_id", doc.get("_id")))));
        }
        return out;
    }

    static List<RawBsonDocument> updates(UUID uuid, int from, int to, int docs, SplittableRandom r) {
        List<RawBsonDocument> out = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            int target = r.nextInt(docs);
            BsonDocument diff = new BsonDocument("u", new BsonDocument("qty", new BsonInt32(1 + r.nextInt(9)))
                    .append("price", new BsonDouble(5 + r.nextInt(9500) / 100.0)))
                    .append("sstatus", new BsonDocument("u", new BsonDocument("state", new BsonString(STATES[r.nextInt(STATES.length)]))
                            .append("updatedAt", new BsonDateTime(T0 * 1000 + docs + i))));
            BsonDocument o = new BsonDocument("$v", new BsonInt32(2)).append("diff", diff);
            BsonDocument o2 = new BsonDocument("_id", new BsonObjectId(new ObjectId((int) T0 + target / 1000, target)));
            out.add(raw(entry(i, "u", uuid, o, o2)));
        }
        return out;
    }

    /** {@code ApplyBench <workDir> <insert|update-v2> <entries> [runs]}: prints one line per run. */
    public static void main(String[] args) throws IOException {
        Path work = Path.of(args.length > 0 ? args[0] : System.getProperty("java.io.tmpdir"));
        String mix = args.length > 1 ? args[1] : "insert";
        int entries = args.length > 2 ? Integer.parseInt(args[2]) : 300_000;
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        Files.createDirectories(work);
        for (int i = 0; i < runs; i++) {
            Map<String, Object> r = run(work, mix, entries);
            System.out.println(r);
        }
    }
}
