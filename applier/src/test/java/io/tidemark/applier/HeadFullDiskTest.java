package io.tidemark.applier;

import io.tidemark.shared.storage.StorageFailure;
import io.tidemark.shared.testing.SmallDisk;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the head runner's recovery from a full disk relies on: RocksDB's failure is classified as
 * a full disk, the head keeps refusing writes after space returns, and reopening it resumes at the
 * last committed position with every committed document and nothing of the failed batch.
 */
class HeadFullDiskTest {

    private static final UUID UUID_C = UUID.randomUUID();

    @TempDir
    Path tmp;

    private static RawBsonDocument doc(int id, int size) {
        return new RawBsonDocument(new BsonDocument("_id", new BsonInt32(id)).append("v", new BsonString("x".repeat(size))),
                new BsonDocumentCodec());
    }

    @Test
    void aHeadThatRanOutOfSpaceResumesAtItsLastCommitWhenReopened() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(tmp.resolve("disk"), 32)) {
            Path dir = disk.path().resolve("head");
            Head head = Head.open(dir);
            head.createNamespace("db", "c", UUID_C, NamespaceType.COLLECTION, null, List.of());
            new OplogApplier(head).apply(List.of(TestEntries.insert(1, UUID_C, doc(1, 100))), OplogApplier.Mode.STEADY);
            head.sync();
            var committed = head.appliedTs();

            disk.fill();
            RuntimeException failed = null;
            int ts = 2;
            for (; ts < 2_000 && failed == null; ts++) {
                List<RawBsonDocument> batch = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    batch.add(TestEntries.insert(ts * 100 + i, UUID_C, doc(ts * 100 + i, 50_000)));
                }
                try {
                    new OplogApplier(head).apply(batch, OplogApplier.Mode.STEADY);
                    head.sync();
                    committed = head.appliedTs();
                } catch (RuntimeException e) {
                    failed = e;
                }
            }
            assertTrue(failed != null, "writes never failed on a full disk");
            assertEquals(Optional.of(StorageFailure.Kind.DISK_FULL), StorageFailure.classify(failed), failed.toString());

            disk.release();
            RuntimeException e = failed;
            boolean stillRefused;
            try {
                new OplogApplier(head).apply(List.of(TestEntries.insert(1_000_000, UUID_C, doc(999_999, 10))), OplogApplier.Mode.STEADY);
                head.sync();
                stillRefused = false;
            } catch (RuntimeException again) {
                stillRefused = true;
            }
            head.close();

            Head reopened = Head.open(dir);
            try {
                assertTrue(reopened.appliedTs().compareTo(committed) >= 0, "nothing committed is lost");
                assertTrue(reopened.document("db.c", new BsonInt32(1)).isPresent());
                new OplogApplier(reopened).apply(List.of(TestEntries.insert(2_000_000, UUID_C, doc(2_000_000, 10))),
                        OplogApplier.Mode.STEADY);
                reopened.sync();
                assertTrue(reopened.document("db.c", new BsonInt32(2_000_000)).isPresent(), "a reopened head takes writes again");
                System.out.println("head on a full disk: " + e + "; still refused after space returned: " + stillRefused);
            } finally {
                reopened.close();
            }
        }
    }
}
