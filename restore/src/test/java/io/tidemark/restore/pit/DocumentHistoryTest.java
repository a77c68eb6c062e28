package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.restore.history.DocumentHistory;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.UnknownJobException;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.snapshotter.DeltaPolicy;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
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
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The history of one document checked against a model of a randomized workload: inserts, $v:2
 * updates, replacements, deletes, transactions in MongoDB's shapes (one applyOps with lsid and
 * txnNumber; a large one split over partialTxn entries; prepared ones committed or aborted, their
 * prepare and commit in different batches with snapshots between), a collection dropped and
 * created again, with full and delta snapshots at random points. Every watched document's version
 * in every snapshot, its list of changes in the window (positions and kinds, in order), and its
 * state at random moments must equal the model's.
 */
class DocumentHistoryTest {

    private static final long BASE = 1_700_200_000L;
    private static final JsonWriterSettings CANONICAL = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();
    private static final int IDS = 12;

    @TempDir
    Path dir;

    /** Oplog entries with increasing timestamps. */
    private static final class Clocked {
        long seconds = BASE + 1;
        int inc;

        BsonDocument stamp(BsonDocument e) {
            if (++inc > 7) {
                seconds++;
                inc = 1;
            }
            return e.append("ts", new BsonTimestamp((int) seconds, inc)).append("t", new BsonInt64(1))
                    .append("v", new BsonInt64(2)).append("wall", new BsonDateTime(seconds * 1000 + 250));
        }
    }

    /** The model: per (ns, id) its state after each change (null: absent), and the changes' kinds. */
    private static final class Model {
        final Map<String, TreeMap<OpTime, BsonDocument>> states = new HashMap<>();
        final Map<String, List<Object[]>> changes = new HashMap<>();
        final Map<String, BsonDocument> now = new HashMap<>();

        static String k(String ns, int id) {
            return ns + "/" + id;
        }

        void set(String ns, int id, OpTime ts, BsonDocument doc, String kind) {
            states.computeIfAbsent(k(ns, id), x -> new TreeMap<>()).put(ts, doc == null ? null : doc.clone());
            changes.computeIfAbsent(k(ns, id), x -> new ArrayList<>()).add(new Object[] {ts, kind});
            if (doc == null) {
                now.remove(k(ns, id));
            } else {
                now.put(k(ns, id), doc.clone());
            }
        }

        /** A catalog event every document of the namespace lists. */
        void event(String ns, OpTime ts, String kind, boolean endsDocuments) {
            for (int id = 0; id < IDS; id++) {
                if (endsDocuments) {
                    states.computeIfAbsent(k(ns, id), x -> new TreeMap<>()).put(ts, null);
                    now.remove(k(ns, id));
                }
                changes.computeIfAbsent(k(ns, id), x -> new ArrayList<>()).add(new Object[] {ts, kind});
            }
        }

        BsonDocument at(String ns, int id, OpTime ts) {
            var e = states.getOrDefault(k(ns, id), new TreeMap<>()).floorEntry(ts);
            return e == null ? null : e.getValue();
        }

        List<String> changesIn(String ns, int id, OpTime from, OpTime to) {
            List<String> out = new ArrayList<>();
            for (Object[] c : changes.getOrDefault(k(ns, id), List.of())) {
                OpTime ts = (OpTime) c[0];
                if (ts.isAfter(from) && !ts.isAfter(to)) {
                    out.add(ts + " " + c[1]);
                }
            }
            return out;
        }
    }

    private static BsonDocument crud(String op, String ns, UUID ui) {
        return new BsonDocument("op", new BsonString(op)).append("ns", new BsonString(ns))
                .append("ui", new BsonBinary(ui, UuidRepresentation.STANDARD));
    }

    private static BsonDocument doc(int id, int version, Random r) {
        return new BsonDocument("_id", new BsonInt32(id)).append("text", new BsonString("v" + version + "x".repeat(r.nextInt(300))))
                .append("n", new BsonInt32(version)).append("tags", new BsonArray(List.of(new BsonString("t" + version % 5))));
    }

    private static String json(BsonDocument d) {
        return d == null ? null : new JsonObject(d.toJson(CANONICAL)).encode();
    }

    @Test
    void historyAndStatesAtRandomMomentsMatchTheModel() {
        long began = System.nanoTime();
        try (PitFixture fx = new PitFixture(dir)) {
            SnapshotTaker taker = new SnapshotTaker(fx.blocks, fx.manifests, fx.catalog, fx.cpu, fx.io,
                    BlockWriter.Options.defaults().withChunking(new ChunkingParams(1024, 4096, 16384)),
                    new DeltaPolicy(true, 3, 10.0));
            PitFixture.Job job = fx.new Job("hist", new OpTime(BASE, 0));
            Clocked c = new Clocked();
            Random random = new Random(5);
            Model model = new Model();
            Map<String, UUID> uuids = new HashMap<>(Map.of("db.a", UUID.randomUUID(), "db.b", UUID.randomUUID()));
            List<RawBsonDocument> setup = new ArrayList<>();
            for (String coll : List.of("a", "b")) {
                BsonDocument e = c.stamp(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("db.$cmd"))
                        .append("ui", new BsonBinary(uuids.get("db." + coll), UuidRepresentation.STANDARD))
                        .append("o", new BsonDocument("create", new BsonString(coll)).append("idIndex", PitFixture.idIndex())));
                setup.add(PitFixture.raw(e));
            }
            // Filler documents so the namespace spans many blocks and pages have several references.
            for (int i = 0; i < 400; i++) {
                BsonDocument d = doc(1000 + i, i, random);
                setup.add(PitFixture.raw(c.stamp(crud("i", "db.a", uuids.get("db.a")).append("o", d)
                        .append("o2", new BsonDocument("_id", d.get("_id"))))));
            }
            job.apply(setup);
            SnapshotSummary first = taker.take(job.id, job.head).block(TIMEOUT);
            List<Manifest> snapshots = new ArrayList<>(List.of(first.manifest()));
            int version = 0;
            long txnNumber = 0;
            BsonDocument lsid = new BsonDocument("id", new BsonBinary(UUID.randomUUID(), UuidRepresentation.STANDARD));
            BsonDocument preparedCommitPending = null;
            List<BsonDocument> preparedOps = null;
            for (int round = 0; round < 24; round++) {
                List<RawBsonDocument> batch = new ArrayList<>();
                if (preparedCommitPending != null) {
                    // The commit (or abort) of the transaction prepared in the previous round.
                    boolean commit = random.nextBoolean();
                    BsonDocument e = c.stamp(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("admin.$cmd"))
                            .append("o", commit ? new BsonDocument("commitTransaction", new BsonInt32(1))
                                    .append("commitTimestamp", new BsonTimestamp((int) c.seconds, 1))
                                    : new BsonDocument("abortTransaction", new BsonInt32(1)))
                            .append("lsid", lsid).append("txnNumber", preparedCommitPending.get("txnNumber"))
                            .append("prevOpTime", new BsonDocument("ts", preparedCommitPending.getTimestamp("ts")).append("t", new BsonInt64(1))));
                    batch.add(PitFixture.raw(e));
                    if (commit) {
                        apply(model, preparedOps, OpTime.of(e.getTimestamp("ts")));
                    }
                    preparedCommitPending = null;
                }
                if (round == 11) {
                    BsonDocument drop = c.stamp(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("db.$cmd"))
                            .append("ui", new BsonBinary(uuids.get("db.b"), UuidRepresentation.STANDARD))
                            .append("o", new BsonDocument("drop", new BsonString("b"))));
                    batch.add(PitFixture.raw(drop));
                    model.event("db.b", OpTime.of(drop.getTimestamp("ts")), "drop", true);
                    uuids.put("db.b", UUID.randomUUID());
                    BsonDocument create = c.stamp(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("db.$cmd"))
                            .append("ui", new BsonBinary(uuids.get("db.b"), UuidRepresentation.STANDARD))
                            .append("o", new BsonDocument("create", new BsonString("b")).append("idIndex", PitFixture.idIndex())));
                    batch.add(PitFixture.raw(create));
                    model.event("db.b", OpTime.of(create.getTimestamp("ts")), "create", false);
                }
                for (int op = 0; op < 12; op++) {
                    int shape = random.nextInt(10);
                    if (shape < 7) {
                        BsonDocument e = single(model, c, uuids, random, ++version);
                        if (e != null) {
                            batch.add(PitFixture.raw(e));
                            apply(model, List.of(e), OpTime.of(e.getTimestamp("ts")));
                        }
                        continue;
                    }
                    // A transaction of 2 to 5 operations on distinct documents.
                    List<BsonDocument> ops = new ArrayList<>();
                    Map<String, BsonDocument> shadow = new HashMap<>(model.now);
                    List<Integer> ids = new ArrayList<>();
                    for (int i = 0; i < IDS; i++) {
                        ids.add(i);
                    }
                    Collections.shuffle(ids, random);
                    for (int i = 0; i < 2 + random.nextInt(4); i++) {
                        String ns = random.nextInt(3) == 0 ? "db.b" : "db.a";
                        BsonDocument o = operation(shadow, ns, ids.get(i), uuids, random, ++version);
                        ops.add(o);
                    }
                    txnNumber++;
                    BsonInt64 txn = new BsonInt64(txnNumber);
                    if (shape == 7) {
                        BsonDocument e = c.stamp(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("admin.$cmd"))
                                .append("o", new BsonDocument("applyOps", new BsonArray(new ArrayList<>(ops))))
                                .append("lsid", lsid).append("txnNumber", txn)
                                .append("prevOpTime", new BsonDocument("ts", new BsonTimestamp(0, 0)).append("t", new BsonInt64(-1))));
                        batch.add(PitFixture.raw(e));
                        apply(model, ops, OpTime.of(e.getTimestamp("ts")));
                    } else if (shape == 8) {
                        // Split over partialTxn entries chained by prevOpTime, the last one committing.
                        BsonTimestamp prev = new BsonTimestamp(0, 0);
                        int at = 0;
                        BsonDocument e = null;
                        while (at < ops.size()) {
                            int n = Math.min(ops.size() - at, 1 + random.nextInt(2));
                            boolean last = at + n == ops.size();
                            BsonDocument o = new BsonDocument("applyOps", new BsonArray(new ArrayList<>(ops.subList(at, at + n))));
                            if (last) {
                                o.append("count", new BsonInt64(ops.size()));
                            } else {
                                o.append("partialTxn", BsonBoolean.TRUE);
                            }
                            e = c.stamp(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("admin.$cmd"))
                                    .append("o", o).append("lsid", lsid).append("txnNumber", txn)
                                    .append("prevOpTime", new BsonDocument("ts", prev).append("t", new BsonInt64(prev.getTime() == 0 ? -1 : 1))));
                            batch.add(PitFixture.raw(e));
                            prev = e.getTimestamp("ts");
                            at += n;
                        }
                        apply(model, ops, OpTime.of(e.getTimestamp("ts")));
                    } else if (preparedCommitPending == null) {
                        // Prepared: committed or aborted in the next batch, maybe after a snapshot.
                        BsonDocument e = c.stamp(new BsonDocument("op", new BsonString("c")).append("ns", new BsonString("admin.$cmd"))
                                .append("o", new BsonDocument("applyOps", new BsonArray(new ArrayList<>(ops))).append("prepare", BsonBoolean.TRUE))
                                .append("lsid", lsid).append("txnNumber", txn)
                                .append("prevOpTime", new BsonDocument("ts", new BsonTimestamp(0, 0)).append("t", new BsonInt64(-1))));
                        batch.add(PitFixture.raw(e));
                        preparedCommitPending = e;
                        preparedOps = ops;
                        break; // nothing else in this batch may touch the prepared documents
                    }
                }
                job.apply(batch);
                if (random.nextInt(3) != 0) {
                    snapshots.add(taker.take(job.id, job.head).block(TIMEOUT).manifest());
                }
            }
            assertTrue(snapshots.stream().anyMatch(m -> m.isDelta() && m.chain().depth() >= 2), "deltas in chains");
            assertTrue(snapshots.stream().filter(m -> !m.isDelta()).count() >= 2, "several full snapshots");

            PointInTimeRestores restores = fx.restores(Clock.fixed(Instant.ofEpochSecond(BASE + 3600), ZoneOffset.UTC));
            DocumentHistory history = new DocumentHistory(fx.stores.jobs(), fx.catalog, fx.manifests, fx.stores.oplog(),
                    fx.blocks, restores.windows());
            OpTime from = first.manifest().ts();
            OpTime to = job.stored;
            int withChanges = 0;
            for (String ns : List.of("db.a", "db.b")) {
                for (int id = 0; id < IDS; id++) {
                    if (ns.equals("db.a") && id == 0) {
                        System.out.printf("workload and snapshots: %d ms%n", (System.nanoTime() - began) / 1_000_000);
                    }
                    JsonObject h = history.history(job.id, ns, String.valueOf(id)).block(TIMEOUT);
                    // Versions: every snapshot, in order, with the model's document at its position.
                    List<String> expected = new ArrayList<>();
                    for (Manifest m : snapshots) {
                        expected.add(m.snapshotId() + "=" + json(model.at(ns, id, m.ts())));
                    }
                    List<String> actual = new ArrayList<>();
                    String previous = "";
                    for (Object o : h.getJsonArray("versions")) {
                        JsonObject v = (JsonObject) o;
                        String state = v.getBoolean("exists") ? v.getJsonObject("document").encode() : null;
                        assertNotEquals(previous, String.valueOf(state) + v.getString("absent"), "consecutive equal versions are one entry");
                        previous = String.valueOf(state) + v.getString("absent");
                        for (Object s : v.getJsonArray("snapshots")) {
                            actual.add(((JsonObject) s).getString("snapshot") + "=" + state);
                        }
                    }
                    assertEquals(expected, actual, ns + " " + id + " versions");
                    // Changes in the window, in position order.
                    List<String> changes = new ArrayList<>();
                    for (Object o : h.getJsonObject("oplog").getJsonArray("changes")) {
                        JsonObject ch = (JsonObject) o;
                        changes.add(OpTime.fromJson(ch.getJsonObject("ts")) + " " + ch.getString("op"));
                    }
                    List<String> modelChanges = model.changesIn(ns, id, from, to);
                    assertEquals(modelChanges, changes, ns + " " + id + " changes");
                    if (modelChanges.size() >= 2) {
                        withChanges++;
                        // The check is order-sensitive: the reversed model would not pass.
                        List<String> reversed = new ArrayList<>(modelChanges);
                        Collections.reverse(reversed);
                        assertNotEquals(reversed, changes);
                    }
                    assertTrue(h.getInteger("blocksRead") <= 2 * snapshots.stream().mapToInt(m -> m.chain().depth() + 1).sum(),
                            "one or two blocks per snapshot and level: " + h.getInteger("blocksRead"));
                }
            }
            assertTrue(withChanges > 10, "documents with several changes: " + withChanges);
            System.out.printf("histories: %d ms since start%n", (System.nanoTime() - began) / 1_000_000);
            // States at random moments of the window, as T:I.
            for (int i = 0; i < 60; i++) {
                String ns = random.nextBoolean() ? "db.a" : "db.b";
                int id = random.nextInt(IDS);
                OpTime t = new OpTime(from.seconds() + random.nextInt((int) (to.seconds() - from.seconds() + 1)), random.nextInt(9));
                if (t.compareTo(from) < 0 || t.compareTo(to) > 0) {
                    continue;
                }
                JsonObject got = history.at(job.id, ns, String.valueOf(id), t.toString()).block(TIMEOUT);
                BsonDocument want = model.at(ns, id, t);
                assertEquals(want != null, got.getBoolean("exists"), ns + " " + id + " at " + t);
                if (want != null) {
                    assertEquals(json(want), got.getJsonObject("document").encode(), ns + " " + id + " at " + t);
                }
            }
            // An ISO time: every entry of that second counts.
            for (int id = 0; id < IDS; id++) {
                JsonObject iso = history.at(job.id, "db.a", String.valueOf(id), Instant.ofEpochSecond(to.seconds() - 1).toString())
                        .block(TIMEOUT);
                BsonDocument want = model.at("db.a", id, new OpTime(to.seconds() - 1, 0xFFFF_FFFFL));
                assertEquals(json(want), iso.getBoolean("exists") ? iso.getJsonObject("document").encode() : null, "ISO, " + id);
            }

            // Bad input: clear 4xx errors.
            assertStatus(400, () -> history.history(job.id, "db.a", "{not json").block(TIMEOUT));
            assertStatus(400, () -> history.history(job.id, "db.a", "[1, 2]").block(TIMEOUT));
            assertStatus(400, () -> history.history(job.id, "nodot", "1").block(TIMEOUT));
            assertStatus(400, () -> history.at(job.id, "db.a", "1", "yesterday").block(TIMEOUT));
            assertStatus(404, () -> history.history(job.id, "db.nothere", "1").block(TIMEOUT));
            assertStatus(404, () -> history.at(job.id, "db.nothere", "1", to.toString()).block(TIMEOUT));
            assertStatus(422, () -> history.at(job.id, "db.a", "1", new OpTime(from.seconds() - 5, 0).toString()).block(TIMEOUT));
            assertStatus(422, () -> history.at(job.id, "db.a", "1", new OpTime(to.seconds() + 100, 0).toString()).block(TIMEOUT));
            assertThrows(UnknownJobException.class, () -> history.history("no-such-job", "db.a", "1").block(TIMEOUT));
            job.close();
        }
    }

    private static void assertStatus(int status, Runnable call) {
        ApiException e = assertThrows(ApiException.class, call::run);
        assertEquals(status, e.status(), e.getMessage());
    }

    /** One operation on a random watched document, chosen to fit its state in {@code shadow}, which it updates. */
    private static BsonDocument operation(Map<String, BsonDocument> shadow, String ns, int id, Map<String, UUID> uuids,
            Random r, int version) {
        BsonDocument cur = shadow.get(Model.k(ns, id));
        UUID ui = uuids.get(ns);
        if (cur == null) {
            BsonDocument d = doc(id, version, r);
            shadow.put(Model.k(ns, id), d);
            return crud("i", ns, ui).append("o", d).append("o2", new BsonDocument("_id", d.get("_id")));
        }
        int kind = r.nextInt(4);
        if (kind == 0) {
            shadow.remove(Model.k(ns, id));
            return crud("d", ns, ui).append("o", new BsonDocument("_id", new BsonInt32(id)));
        }
        if (kind == 1) {
            BsonDocument d = doc(id, version, r);
            shadow.put(Model.k(ns, id), d);
            return crud("u", ns, ui).append("o", d).append("o2", new BsonDocument("_id", new BsonInt32(id)));
        }
        BsonDocument next = cur.clone();
        next.put("n", new BsonInt32(version));
        next.put("text", new BsonString("upd" + version));
        shadow.put(Model.k(ns, id), next);
        return crud("u", ns, ui).append("o", new BsonDocument("$v", new BsonInt32(2)).append("diff",
                        new BsonDocument("u", new BsonDocument("n", new BsonInt32(version)).append("text", new BsonString("upd" + version)))))
                .append("o2", new BsonDocument("_id", new BsonInt32(id)));
    }

    private static BsonDocument single(Model model, Clocked c, Map<String, UUID> uuids, Random r, int version) {
        String ns = r.nextInt(3) == 0 ? "db.b" : "db.a";
        Map<String, BsonDocument> shadow = new HashMap<>(model.now);
        return c.stamp(operation(shadow, ns, r.nextInt(IDS), uuids, r, version));
    }

    /** Applies operations to the model at {@code ts} (a transaction's at its commit). */
    private static void apply(Model model, List<BsonDocument> ops, OpTime ts) {
        for (BsonDocument op : ops) {
            String ns = op.getString("ns").getValue();
            String kind = op.getString("op").getValue();
            int id = (kind.equals("u") ? op.getDocument("o2") : op.getDocument("o")).getInt32("_id").getValue();
            switch (kind) {
                case "i" -> model.set(ns, id, ts, op.getDocument("o"), "insert");
                case "d" -> model.set(ns, id, ts, null, "delete");
                default -> {
                    BsonDocument o = op.getDocument("o");
                    if (o.containsKey("$v")) {
                        BsonDocument next = model.now.get(Model.k(ns, id)).clone();
                        BsonDocument u = o.getDocument("diff").getDocument("u");
                        for (String f : u.keySet()) {
                            next.put(f, u.get(f));
                        }
                        model.set(ns, id, ts, next, "update");
                    } else {
                        model.set(ns, id, ts, o, "replace");
                    }
                }
            }
        }
    }
}
