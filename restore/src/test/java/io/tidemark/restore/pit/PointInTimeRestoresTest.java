package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static io.tidemark.restore.pit.PitFixture.doc;
import static io.tidemark.restore.pit.PitFixture.list;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.VerifyHash;
import io.tidemark.restore.PitWindow;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.snapshotter.SnapshotSummary;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

class PointInTimeRestoresTest {

    @TempDir
    static Path dir;
    static PitFixture fx;
    static PitFixture.Job job;
    static PointInTimeRestores restores;
    static final long BASE = Instant.now().minus(Duration.ofHours(2)).getEpochSecond();
    /** Expected content per target, recorded from the live head as the entries were applied. */
    static final Map<OpTime, Map<String, VerifyHash.Result>> expected = new LinkedHashMap<>();
    static SnapshotSummary first;
    static SnapshotSummary second;
    static OpTime secondOfBatch2Last;
    static long batch2Second;

    @BeforeAll
    static void record() {
        fx = new PitFixture(dir);
        restores = fx.restores(Clock.systemUTC());
        job = fx.new Job("pit-a", new OpTime(BASE, 0));
        PitFixture.Entries e = new PitFixture.Entries(BASE + 1, 50);
        UUID users = UUID.randomUUID();
        UUID orders = UUID.randomUUID();
        UUID views = UUID.randomUUID();
        UUID scratch = UUID.randomUUID();

        List<RawBsonDocument> b1 = list(e.create("db", "users", users), e.create("db", "orders", orders),
                e.create("db", "system.views", views));
        for (int i = 0; i < 300; i++) {
            b1.add(e.insert("db.users", users, doc(i, "user " + i + " ".repeat(i % 50), i)));
        }
        b1.add(e.createIndex("db", "users", users, "n", true));
        job.apply(b1);
        first = job.snapshot();
        expected.put(first.ts(), job.hashes());

        // Batch 2, stored as one batch, applied to the live head in steps to record targets inside it.
        List<RawBsonDocument> b2 = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            b2.add(e.replace("db.users", users, doc(i, "changed " + i, i + 1000)));
        }
        for (int i = 50; i < 60; i++) {
            b2.add(e.delete("db.users", users, i));
        }
        for (int i = 0; i < 100; i++) {
            b2.add(e.insert("db.orders", orders, doc(i, "order " + i, i)));
        }
        for (int[] cut : new int[][] {{0, 37}, {37, 55}, {55, b2.size()}}) {
            List<RawBsonDocument> part = b2.subList(cut[0], cut[1]);
            job.applier.apply(part, io.tidemark.applier.OplogApplier.Mode.STEADY);
            expected.put(ts(part.get(part.size() - 1)), job.hashes());
        }
        job.store(b2);
        secondOfBatch2Last = ts(b2.get(b2.size() - 1));
        batch2Second = ts(b2.get(70)).seconds();

        // Batch 3: a collection created, filled, renamed; a view; a collection dropped.
        List<RawBsonDocument> b3 = list(e.create("db", "scratch", scratch));
        for (int i = 0; i < 5; i++) {
            b3.add(e.insert("db.scratch", scratch, doc(i, "scratch", i)));
        }
        b3.add(e.rename("db", "scratch", "kept", scratch));
        b3.add(e.insert("db.system.views", views, new BsonDocument("_id", new BsonString("db.big"))
                .append("viewOn", new BsonString("users")).append("pipeline", new org.bson.BsonArray())));
        int renamedAt = b3.size();
        b3.add(e.drop("db", "orders", orders));
        job.applier.apply(b3.subList(0, renamedAt), io.tidemark.applier.OplogApplier.Mode.STEADY);
        expected.put(ts(b3.get(renamedAt - 1)), job.hashes());
        job.applier.apply(b3.subList(renamedAt, b3.size()), io.tidemark.applier.OplogApplier.Mode.STEADY);
        expected.put(ts(b3.get(b3.size() - 1)), job.hashes());
        job.store(b3);
        second = job.snapshot();

        List<RawBsonDocument> b4 = new ArrayList<>();
        for (int i = 5; i < 25; i++) {
            b4.add(e.insert("db.kept", scratch, doc(i, "late", i)));
        }
        job.applier.apply(b4.subList(0, 7), io.tidemark.applier.OplogApplier.Mode.STEADY);
        expected.put(ts(b4.get(6)), job.hashes());
        job.applier.apply(b4.subList(7, b4.size()), io.tidemark.applier.OplogApplier.Mode.STEADY);
        expected.put(ts(b4.get(b4.size() - 1)), job.hashes());
        job.store(b4);
    }

    @AfterAll
    static void stop() {
        job.close();
        fx.close();
    }

    private static OpTime ts(RawBsonDocument entry) {
        return OpTime.of(entry.getTimestamp("ts"));
    }

    @Test
    void everyRecordedTargetRestoresExactlyAndTheTemporaryHeadIsRemoved() throws Exception {
        assertEquals(8, expected.size());
        for (Map.Entry<OpTime, Map<String, VerifyHash.Result>> target : expected.entrySet()) {
            PointInTimeRestoreSource source = restores.openSource(job.id, target.getKey()).block(TIMEOUT);
            try {
                assertEquals(target.getKey(), source.ts());
                assertEquals(target.getValue(), PitFixture.hashes(source), "content at " + target.getKey());
                boolean afterSecond = target.getKey().compareTo(second.ts()) >= 0;
                assertEquals(afterSecond ? second.snapshotId() : first.snapshotId(), source.snapshotId(),
                        "starts from the newest snapshot at or before " + target.getKey());
                assertTrue(source.logicalBytes() > 0);
            } finally {
                source.closed().block(TIMEOUT);
            }
        }
        try (Stream<Path> left = Files.list(dir.resolve("restore-tmp"))) {
            assertEquals(List.of(), left.toList(), "temporary heads are deleted on close");
        }
    }

    @Test
    void theCatalogAtTheTargetReflectsCreatesRenamesDropsViewsAndIndexes() {
        OpTime end = expected.keySet().stream().reduce((a, b) -> b).orElseThrow();
        try (PointInTimeRestoreSource source = restores.openSource(job.id, end).block(TIMEOUT)) {
            Map<String, Manifest.Namespace> byName = new LinkedHashMap<>();
            source.namespaces().forEach(n -> byName.put(n.ns(), n));
            assertEquals(List.of("db.users", "db.system.views", "db.kept", "db.big"), List.copyOf(byName.keySet()));
            assertEquals("view", byName.get("db.big").type());
            assertEquals("users", byName.get("db.big").options().getString("viewOn").getValue());
            assertEquals(25, byName.get("db.kept").documents());
            assertEquals(List.of("_id_", "n_1"), byName.get("db.users").indexes().stream()
                    .map(i -> i.getString("name").getValue()).toList());
            assertTrue(byName.get("db.users").indexes().get(1).getBoolean("unique").getValue());
        }
    }

    @Test
    void targetsOutsideTheWindowAreRefusedWithTheRangeInBothForms() {
        PitWindow window = restores.window(job.id).block(TIMEOUT);
        assertEquals(first.ts(), window.from());
        assertEquals(job.stored, window.to());
        for (OpTime outside : List.of(new OpTime(BASE, 0), new OpTime(job.stored.seconds(), job.stored.increment() + 1))) {
            ApiException e = assertThrows(ApiException.class, () -> restores.open(job.id, outside).block(TIMEOUT));
            assertEquals(422, e.status());
            assertTrue(e.getMessage().contains(first.ts() + " (" + Instant.ofEpochSecond(first.ts().seconds()) + ")")
                    && e.getMessage().contains(job.stored.toString()), e.getMessage());
            assertEquals(window.toJson(), e.toJson().getJsonObject("available"));
        }
        ApiException bad = assertThrows(ApiException.class, () -> restores.windows().resolve(job.id, "yesterday").block(TIMEOUT));
        assertEquals(400, bad.status());
        // Past the retention window: nothing is left to restore.
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofDays(3)), ZoneOffset.UTC);
        ApiException stale = assertThrows(ApiException.class, () -> fx.restores(later).window(job.id).block(TIMEOUT));
        assertEquals(409, stale.status());
        assertTrue(stale.getMessage().contains("24 hours"), stale.getMessage());
    }

    @Test
    void aWallClockTargetIncludesEveryEntryOfThatSecond() {
        OpTime at = restores.positionAt(job.id, Instant.ofEpochSecond(batch2Second, 999_000_000)).block(TIMEOUT);
        // 50 entries a second with walls at .500 of their second: the second's last is increment 50.
        assertEquals(new OpTime(batch2Second, 50), at);
        assertEquals(at, restores.windows().resolve(job.id, Instant.ofEpochSecond(batch2Second).toString()).block(TIMEOUT));
        assertEquals(secondOfBatch2Last, restores.windows().resolve(job.id, secondOfBatch2Last.toString()).block(TIMEOUT));
        ApiException before = assertThrows(ApiException.class,
                () -> restores.positionAt(job.id, Instant.ofEpochSecond(BASE - 10)).block(TIMEOUT));
        assertEquals(422, before.status());
        ApiException after = assertThrows(ApiException.class,
                () -> restores.positionAt(job.id, Instant.ofEpochSecond(job.stored.seconds() + 5)).block(TIMEOUT));
        assertTrue(after.getMessage().contains("after the newest stored oplog entry"), after.getMessage());
    }

    @Test
    void aGapInTheOplogStoreIsRefusedAndADivergentEntryNamed() {
        PitFixture.Job gap = fx.new Job("pit-gap", new OpTime(BASE, 0));
        try {
            PitFixture.Entries e = new PitFixture.Entries(BASE + 1, 10);
            UUID c = UUID.randomUUID();
            gap.apply(list(e.create("db", "c", c), e.insert("db.c", c, doc(1, "x", 1))));
            SnapshotSummary s = gap.snapshot();
            RawBsonDocument lost = e.insert("db.c", c, doc(2, "lost", 2));
            RawBsonDocument after = e.insert("db.c", c, doc(3, "after", 3));
            gap.stored = ts(lost); // the batch holding "lost" never reached the store
            gap.store(list(after));
            ApiException refused = assertThrows(ApiException.class, () -> restores.open(gap.id, ts(after)).block(TIMEOUT));
            assertEquals(409, refused.status());
            assertTrue(refused.getMessage().contains("without a gap") && refused.getMessage().contains(s.ts().toString()),
                    refused.getMessage());
        } finally {
            gap.close();
        }

        PitFixture.Job bad = fx.new Job("pit-diverge", new OpTime(BASE, 0));
        try {
            PitFixture.Entries e = new PitFixture.Entries(BASE + 1, 10);
            UUID c = UUID.randomUUID();
            bad.apply(list(e.create("db", "c", c), e.insert("db.c", c, doc(1, "x", 1))));
            bad.snapshot();
            RawBsonDocument missing = e.delete("db.c", c, 42);
            bad.store(list(missing));
            RuntimeException failed = assertThrows(RuntimeException.class, () -> restores.open(bad.id, ts(missing)).block(TIMEOUT));
            assertInstanceOf(PointInTimeReplayException.class, failed);
            assertTrue(failed.getMessage().contains("42") && failed.getMessage().contains(ts(missing).seconds() + ""),
                    failed.getMessage());
        } finally {
            bad.close();
        }
    }
}
