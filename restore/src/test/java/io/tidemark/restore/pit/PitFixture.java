package io.tidemark.restore.pit;

import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.OplogApplier;
import io.tidemark.applier.VerifyHash;
import io.tidemark.restore.RestoreSource;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import io.vertx.core.Future;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * An in-process MongoDB with the stores over it, a filesystem block store, a live head that oplog
 * entries are applied to (and snapshotted with the real snapshotter), and the same entries stored
 * in the oplog store in batches: what point-in-time restores are built from.
 */
public final class PitFixture implements AutoCloseable {

    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    final EmbeddedMongo mongo = EmbeddedMongo.inMemoryWithOplog();
    final Vertx vertx = VertxFactory.create();
    final Scheduler cpu = Schedulers.newParallel("test-pit-cpu", 2);
    final Scheduler io = Schedulers.newBoundedElastic(4, 1000, "test-pit-io");
    final Path dir;
    final TidemarkConfig config;
    final Stores stores;
    final BlockStore blocks;
    final ManifestStore manifests;
    final SnapshotCatalog catalog;
    final SnapshotTaker taker;

    public PitFixture(Path dir) {
        this.dir = dir;
        config = ConfigLoader.load(null, Map.of(
                "TIDEMARK_DATADIR", dir.resolve("data").toString(),
                "TIDEMARK_MONGODB_METADATAURI", mongo.uri() + "/meta",
                "TIDEMARK_MONGODB_BLOCKSTOREURI", mongo.uri() + "/blockstore"));
        stores = await(Stores.open(vertx, config));
        blocks = new FilesystemBlockStore(dir.resolve("blocks"), io);
        manifests = new ManifestStore(stores.blockstore().database());
        catalog = new SnapshotCatalog(stores.metadata());
        // Small chunks, so that documents straddle blocks.
        taker = new SnapshotTaker(blocks, manifests, catalog, cpu, io,
                BlockWriter.Options.defaults().withChunking(new ChunkingParams(1024, 4096, 16384)));
    }

    public PointInTimeRestores restores(Clock clock) {
        return new PointInTimeRestores(dir.resolve("restore-tmp"), Duration.ofHours(24), stores.jobs(), catalog, manifests,
                stores.oplog(), blocks, clock);
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A job whose live head is fed entries, and whose oplog store gets the same entries. */
    public final class Job {
        public final String id;
        final Head head;
        final OplogApplier applier;
        public OpTime stored;

        public Job(String id, OpTime start) {
            this.id = id;
            this.head = Head.open(dir.resolve("live-" + id));
            this.applier = new OplogApplier(head);
            this.head.initializePosition(start);
            this.stored = start;
            await(stores.metadata().insert("jobs", new JsonObject().put("_id", id).put("name", id).put("state", "ACTIVE")));
        }

        /** Applies one batch to the live head and stores it as one oplog-store batch chained on the last. */
        public void apply(List<RawBsonDocument> batch) {
            applier.apply(batch, OplogApplier.Mode.STEADY);
            store(batch);
        }

        void store(List<RawBsonDocument> batch) {
            ByteArrayOutputStream raw = new ByteArrayOutputStream();
            for (RawBsonDocument e : batch) {
                ByteBuffer b = e.getByteBuffer().asNIO();
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                raw.writeBytes(bytes);
            }
            OpTime first = OpTime.of(batch.get(0).getTimestamp("ts"));
            OpTime last = OpTime.of(batch.get(batch.size() - 1).getTimestamp("ts"));
            stores.oplog().store(id, stored, first, last, batch.size(), raw.toByteArray(), "sha").block(TIMEOUT);
            stored = last;
            await(stores.jobs().recordStored(id, last));
        }

        public SnapshotSummary snapshot() {
            return snapshot(taker);
        }

        public SnapshotSummary snapshot(SnapshotTaker with) {
            return with.take(id, head).block(TIMEOUT);
        }

        /** Every namespace's content hash as the live head has it now. */
        Map<String, VerifyHash.Result> hashes() {
            Map<String, VerifyHash.Result> out = new TreeMap<>();
            try (HeadView view = head.openView()) {
                for (NamespaceEntry n : view.namespaces()) {
                    out.put(n.ns() + "/" + n.type().wireName(), VerifyHash.of(view, n.id()));
                }
            }
            return out;
        }

        public void close() {
            head.close();
        }
    }

    /** Every namespace's content hash as a restore source streams it. */
    public static Map<String, VerifyHash.Result> hashes(RestoreSource source) {
        Map<String, VerifyHash.Result> out = new TreeMap<>();
        for (Manifest.Namespace n : source.namespaces()) {
            VerifyHash h = new VerifyHash();
            DocumentFramer framer = new DocumentFramer(h::add);
            source.documents(n).doOnNext(framer::feed).blockLast(TIMEOUT);
            framer.finish();
            assertCount(n, framer.documents());
            out.put(n.ns() + "/" + n.type(), h.result());
        }
        return out;
    }

    private static void assertCount(Manifest.Namespace n, long streamed) {
        if (n.documents() != streamed) {
            throw new AssertionError(n.ns() + ": namespaces() says " + n.documents() + " documents, streamed " + streamed);
        }
    }

    // ---------------------------------------------------------------- oplog entries

    /** Entry factory with increasing timestamps from {@code seconds}, {@code perSecond} entries a second. */
    public static final class Entries {
        private long seconds;
        private int inc;
        private final int perSecond;

        public Entries(long seconds, int perSecond) {
            this.seconds = seconds;
            this.perSecond = perSecond;
        }

        private BsonDocument stamp(BsonDocument e) {
            if (++inc > perSecond) {
                seconds++;
                inc = 1;
            }
            return e.append("ts", new BsonTimestamp((int) seconds, inc)).append("t", new BsonInt64(1))
                    .append("v", new BsonInt64(2)).append("wall", new BsonDateTime(seconds * 1000 + 500));
        }

        public RawBsonDocument insert(String ns, UUID ui, BsonDocument doc) {
            return raw(stamp(crud("i", ns, ui).append("o", doc).append("o2", new BsonDocument("_id", doc.get("_id")))));
        }

        public RawBsonDocument replace(String ns, UUID ui, BsonDocument doc) {
            return raw(stamp(crud("u", ns, ui).append("o", doc).append("o2", new BsonDocument("_id", doc.get("_id")))));
        }

        public RawBsonDocument delete(String ns, UUID ui, int id) {
            return raw(stamp(crud("d", ns, ui).append("o", new BsonDocument("_id", new BsonInt32(id)))));
        }

        public RawBsonDocument create(String db, String coll, UUID ui) {
            return raw(stamp(command(db, ui).append("o", new BsonDocument("create", new BsonString(coll))
                    .append("idIndex", idIndex()))));
        }

        public RawBsonDocument rename(String db, String from, String to, UUID ui) {
            return raw(stamp(command(db, ui).append("o", new BsonDocument("renameCollection", new BsonString(db + "." + from))
                    .append("to", new BsonString(db + "." + to)).append("stayTemp", BsonBoolean.FALSE)
                    .append("dropTarget", BsonBoolean.FALSE))));
        }

        public RawBsonDocument drop(String db, String coll, UUID ui) {
            return raw(stamp(command(db, ui).append("o", new BsonDocument("drop", new BsonString(coll)))
                    .append("o2", new BsonDocument("numRecords", new BsonInt64(0)))));
        }

        public RawBsonDocument createIndex(String db, String coll, UUID ui, String field, boolean unique) {
            BsonDocument o = new BsonDocument("createIndexes", new BsonString(coll)).append("v", new BsonInt32(2))
                    .append("key", new BsonDocument(field, new BsonInt32(1))).append("name", new BsonString(field + "_1"));
            if (unique) {
                o.append("unique", BsonBoolean.TRUE);
            }
            return raw(stamp(command(db, ui).append("o", o)));
        }

        /** A {@code $v: 2} update setting {@code n}. */
        public RawBsonDocument update(String ns, UUID ui, int id, int n) {
            return raw(stamp(crud("u", ns, ui).append("o", v2Set(n)).append("o2", new BsonDocument("_id", new BsonInt32(id)))));
        }

        /**
         * One applyOps entry of a transaction: {@code flag} "partialTxn" (more to come), "prepare"
         * (prepared, decided later) or null (the final entry that commits it), after {@code prev}.
         */
        public RawBsonDocument txn(UUID session, long txnNumber, BsonTimestamp prev, String flag, int count, BsonDocument... ops) {
            BsonDocument o = new BsonDocument("applyOps", new BsonArray(List.of(ops)));
            if (flag != null) {
                o.append(flag, BsonBoolean.TRUE);
            }
            if (!"partialTxn".equals(flag) && prev != null) {
                o.append("count", new BsonInt64(count));
            }
            return raw(stamp(session(session, txnNumber, prev).append("op", new BsonString("c"))
                    .append("ns", new BsonString("admin.$cmd")).append("o", o)));
        }

        /** The commitTransaction of a prepared transaction whose prepare entry was {@code prepare}. */
        public RawBsonDocument commit(UUID session, long txnNumber, BsonTimestamp prepare) {
            return raw(stamp(session(session, txnNumber, prepare).append("op", new BsonString("c"))
                    .append("ns", new BsonString("admin.$cmd")).append("o", new BsonDocument("commitTransaction", new BsonInt32(1))
                            .append("commitTimestamp", prepare))));
        }

        private static BsonDocument session(UUID session, long txnNumber, BsonTimestamp prev) {
            return new BsonDocument("lsid", new BsonDocument("id", new BsonBinary(session, UuidRepresentation.STANDARD)))
                    .append("txnNumber", new BsonInt64(txnNumber))
                    .append("prevOpTime", new BsonDocument("ts", prev == null ? new BsonTimestamp(0, 0) : prev)
                            .append("t", new BsonInt64(prev == null ? -1 : 1)));
        }

        /** An insert inside an applyOps. */
        public static BsonDocument insertOp(String ns, UUID ui, BsonDocument doc) {
            return crud("i", ns, ui).append("o", doc).append("o2", new BsonDocument("_id", doc.get("_id")));
        }

        /** A {@code $v: 2} update inside an applyOps. */
        public static BsonDocument updateOp(String ns, UUID ui, int id, int n) {
            return crud("u", ns, ui).append("o", v2Set(n)).append("o2", new BsonDocument("_id", new BsonInt32(id)));
        }

        private static BsonDocument v2Set(int n) {
            return new BsonDocument("$v", new BsonInt32(2)).append("diff", new BsonDocument("u", new BsonDocument("n", new BsonInt32(n))));
        }

        private static BsonDocument crud(String op, String ns, UUID ui) {
            return new BsonDocument("op", new BsonString(op)).append("ns", new BsonString(ns))
                    .append("ui", new BsonBinary(ui, UuidRepresentation.STANDARD));
        }

        private static BsonDocument command(String db, UUID ui) {
            BsonDocument c = new BsonDocument("op", new BsonString("c")).append("ns", new BsonString(db + ".$cmd"));
            if (ui != null) {
                c.append("ui", new BsonBinary(ui, UuidRepresentation.STANDARD));
            }
            return c;
        }
    }

    public static BsonDocument idIndex() {
        return new BsonDocument("v", new BsonInt32(2)).append("key", new BsonDocument("_id", new BsonInt32(1)))
                .append("name", new BsonString("_id_"));
    }

    public static BsonDocument doc(int id, String text, int n) {
        return new BsonDocument("_id", new BsonInt32(id)).append("text", new BsonString(text)).append("n", new BsonInt32(n))
                .append("tags", new BsonArray(List.of(new BsonString("a" + n % 7), new BsonString("b" + n % 3))));
    }

    public static RawBsonDocument raw(BsonDocument d) {
        return new RawBsonDocument(d, new BsonDocumentCodec());
    }

    public static List<RawBsonDocument> list(RawBsonDocument... entries) {
        return new ArrayList<>(List.of(entries));
    }

    @Override
    public void close() {
        stores.close();
        await(vertx.close());
        cpu.dispose();
        io.dispose();
        mongo.close();
    }
}
