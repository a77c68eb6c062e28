package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tidemark.restore.RestoreSource;
import io.tidemark.restore.snapshot.SnapshotRestoreSource;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.snapshotter.SnapshotSummary;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDecimal128;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonMaxKey;
import org.bson.BsonMinKey;
import org.bson.BsonNull;
import org.bson.BsonObjectId;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshot and point-in-time restores emit a collection's documents in MongoDB's _id order. */
class IdOrderRestoreTest {

    /** _ids in the order MongoDB's _id index sorts them (its documented comparison order). */
    static final List<BsonValue> MONGO_ORDER = List.of(
            new BsonMinKey(), new BsonNull(),
            new BsonDouble(Double.NaN), new BsonDouble(Double.NEGATIVE_INFINITY), new BsonDouble(-1e20),
            new BsonInt64(Long.MIN_VALUE), new BsonInt32(-300), new BsonDouble(-1.5), new BsonInt32(-1),
            new BsonInt32(0), new BsonDecimal128(Decimal128.parse("0.25")), new BsonDouble(0.5), new BsonInt64(1),
            new BsonInt32(2), new BsonDouble(2.5), new BsonInt32(3), new BsonInt64(255), new BsonInt32(256), new BsonInt32(65_536),
            new BsonDouble(0x1p53), new BsonInt64((1L << 53) + 1), new BsonDecimal128(Decimal128.parse("9007199254740993.5")),
            new BsonInt64(Long.MAX_VALUE), new BsonDouble(1e300), new BsonDouble(Double.POSITIVE_INFINITY),
            new BsonString(""), new BsonString("A"), new BsonString("a"), new BsonString("a\0"), new BsonString("ab"), new BsonString("b"),
            new BsonString("é"),
            new BsonDocument(), new BsonDocument("a", new BsonInt32(1)), new BsonDocument("a", new BsonInt32(1)).append("b", new BsonNull()),
            new BsonDocument("a", new BsonInt32(2)), 
            // Field by field, type before name: {b: 0} (a number) sorts before {a: "x"} (a string).
            new BsonDocument("b", new BsonInt32(0)), new BsonDocument("a", new BsonString("x")),
            new BsonBinary(new byte[0]), new BsonBinary(new byte[] {9}), new BsonBinary((byte) 4, new byte[] {1}),
            new BsonBinary(new byte[] {0, 0}),
            new BsonObjectId(new ObjectId("000000000000000000000001")), new BsonObjectId(new ObjectId("7f0000000000000000000000")),
            new BsonObjectId(new ObjectId("800000000000000000000000")), new BsonObjectId(new ObjectId("ff0000000000000000000000")),
            BsonBoolean.FALSE, BsonBoolean.TRUE,
            new BsonDateTime(-1), new BsonDateTime(0), new BsonDateTime(1_700_000_000_000L),
            new BsonTimestamp(1, 0), new BsonTimestamp(1, 5), new BsonTimestamp(-1, 0),
            new BsonMaxKey());

    @TempDir
    Path dir;

    @Test
    void restoresEmitDocumentsInIdOrder() {
        long base = Instant.now().minus(Duration.ofHours(1)).getEpochSecond();
        try (PitFixture fx = new PitFixture(dir)) {
            PitFixture.Job job = fx.new Job("order", new OpTime(base, 0));
            try {
                PitFixture.Entries e = new PitFixture.Entries(base + 1, 50);
                UUID c = UUID.randomUUID();
                List<BsonValue> shuffled = new ArrayList<>(MONGO_ORDER);
                Collections.shuffle(shuffled, new Random(5));
                List<RawBsonDocument> batch = PitFixture.list(e.create("db", "c", c));
                int half = shuffled.size() / 2;
                for (BsonValue id : shuffled.subList(0, half)) {
                    batch.add(e.insert("db.c", c, new BsonDocument("_id", id).append("v", new BsonString("x"))));
                }
                job.apply(batch);
                SnapshotSummary snapshot = job.snapshot();
                List<RawBsonDocument> more = new ArrayList<>();
                for (BsonValue id : shuffled.subList(half, shuffled.size())) {
                    more.add(e.insert("db.c", c, new BsonDocument("_id", id).append("v", new BsonString("y"))));
                }
                job.apply(more);

                List<BsonValue> firstHalf = new ArrayList<>(MONGO_ORDER);
                firstHalf.retainAll(shuffled.subList(0, half));
                SnapshotRestoreSource fromSnapshot = SnapshotRestoreSource.open(fx.manifests, new BlockReader(fx.blocks, 2),
                        snapshot.snapshotId()).block(TIMEOUT);
                assertEquals(firstHalf, ids(fromSnapshot, "db.c"), "a snapshot restore");

                try (PointInTimeRestoreSource pit = fx.restores(Clock.systemUTC()).openSource(job.id, job.stored).block(TIMEOUT)) {
                    assertEquals(MONGO_ORDER, ids(pit, "db.c"), "a point-in-time restore");
                }
            } finally {
                job.close();
            }
        }
    }

    private static List<BsonValue> ids(RestoreSource source, String ns) {
        Manifest.Namespace n = source.namespaces().stream().filter(x -> x.ns().equals(ns)).findFirst().orElseThrow();
        List<BsonValue> ids = new ArrayList<>();
        DocumentFramer framer = new DocumentFramer((b, off, len) -> ids.add(new RawBsonDocument(b, off, len).get("_id")));
        source.documents(n).doOnNext(framer::feed).blockLast(TIMEOUT);
        framer.finish();
        return ids;
    }
}
