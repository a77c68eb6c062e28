package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing a head while others read it (what a resync, a failed job or shutdown does): readers
 * finish or get a {@link HeadClosedException}; nothing native is ever used after it is freed.
 */
@SuppressWarnings("try") // leases are held for their try block, never referenced in it
class HeadLifecycleTest {
    private static final UUID UUID_C = UUID.randomUUID();
    private static final int DOCS = 3_000;

    @TempDir
    Path dir;

    private static RawBsonDocument doc(int id) {
        return new RawBsonDocument(new BsonDocument("_id", new BsonInt32(id)).append("v", new BsonString("x".repeat(200))),
                new BsonDocumentCodec());
    }

    private static RawBsonDocument insert(int ts, int id) {
        return TestEntries.insert(ts, UUID_C, doc(id));
    }

    /** A head with {@code DOCS} documents in db.c, closed; returns the namespace id. */
    private int createHead() {
        try (Head head = Head.open(dir)) {
            NamespaceEntry ns = head.createNamespace("db", "c", UUID_C, NamespaceType.COLLECTION, null, List.of());
            List<RawBsonDocument> docs = new ArrayList<>();
            for (int i = 0; i < DOCS; i++) {
                docs.add(doc(i));
            }
            head.bulkLoad(ns.id(), docs.iterator());
            return ns.id();
        }
    }

    @Test
    void everyUseAfterCloseFailsWithHeadClosedException() {
        int nsId = createHead();
        Head head = Head.open(dir);
        HeadView view = head.openView();
        HeadView.DocumentCursor cursor = view.documents(nsId);
        assertTrue(cursor.hasNext());
        cursor.nextBytes();
        head.close();

        assertThrows(HeadClosedException.class, cursor::hasNext, "a cursor does not pretend its namespace ended");
        assertThrows(HeadClosedException.class, cursor::nextBytes);
        assertThrows(HeadClosedException.class, () -> cursor.readBytes(new byte[4096], 0, 4096));
        assertThrows(HeadClosedException.class, () -> view.documents(nsId));
        assertThrows(HeadClosedException.class, () -> view.document(nsId, new BsonInt32(1)));
        assertThrows(HeadClosedException.class, () -> view.lastModified(nsId));
        assertThrows(HeadClosedException.class, view::modificationSeq);
        assertThrows(HeadClosedException.class, head::openView);
        assertThrows(HeadClosedException.class, () -> head.document(nsId, new BsonInt32(1)));
        assertThrows(HeadClosedException.class, () -> head.bulkLoader(nsId));
        assertThrows(HeadClosedException.class, head::sync);
        assertThrows(HeadClosedException.class,
                () -> new OplogApplier(head).apply(List.of(insert(1, DOCS + 1)), OplogApplier.Mode.STEADY));
        // Closing again, and closing what the head closed, is harmless.
        cursor.close();
        view.close();
        head.close();
    }

    @Test
    void closeWaitsForAReaderInProgressAndCancelsItsNextStep() throws Exception {
        int nsId = createHead();
        Head head = Head.open(dir);
        HeadView view = head.openView();
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch holding = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            // A reader in the middle of a call (as an apply call holds its lease throughout).
            Future<Class<?>> reader = threads.submit(() -> {
                try (LeaseGate.Lease l = head.lease()) {
                    assertTrue(head.document(nsId, new BsonInt32(1)).isPresent());
                    holding.countDown();
                    proceed.await();
                    head.document(nsId, new BsonInt32(2));
                    return null;
                } catch (HeadClosedException e) {
                    return e.getClass();
                }
            });
            assertTrue(holding.await(10, TimeUnit.SECONDS));
            CountDownLatch closed = new CountDownLatch(1);
            threads.submit(() -> {
                head.close();
                closed.countDown();
            });
            // Closing has begun: new work is refused at once, while the close waits for the reader.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!refused(head) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertTrue(refused(head), "a close in progress refuses new views");
            assertEquals(1, closed.getCount(), "the close waits while a reader holds its lease");
            assertTrue(view.document(nsId, new BsonInt32(3)).isPresent(), "the views are closed only after the readers");
            proceed.countDown();
            assertEquals(HeadClosedException.class, reader.get(10, TimeUnit.SECONDS), "the reader's next step is cancelled");
            assertTrue(closed.await(10, TimeUnit.SECONDS), "the close completes once the reader is done");
            assertThrows(HeadClosedException.class, () -> view.document(nsId, new BsonInt32(3)));
        } finally {
            threads.shutdownNow();
            head.close();
        }
    }

    private static boolean refused(Head head) {
        try {
            head.openView().close();
            return false;
        } catch (HeadClosedException e) {
            return true;
        }
    }

    /**
     * The close a resync, a FAILED job or shutdown does, while views read from other threads: 100
     * times, at varying moments. Every reader either finishes or gets HeadClosedException.
     */
    @Test
    void closingWhileViewsReadNeverCrashes() throws Exception {
        int nsId = createHead();
        Random random = new Random(11);
        ExecutorService readers = Executors.newFixedThreadPool(3);
        try {
            for (int round = 0; round < 100; round++) {
                Head head = Head.open(dir);
                CountDownLatch started = new CountDownLatch(3);
                List<Future<?>> running = new ArrayList<>();
                for (int r = 0; r < 3; r++) {
                    int kind = r;
                    running.add(readers.submit(() -> readUntilClosed(head, nsId, kind, started)));
                }
                assertTrue(started.await(10, TimeUnit.SECONDS));
                int spins = random.nextInt(200_000);
                for (int i = 0; i < spins; i++) {
                    Thread.onSpinWait();
                }
                head.close();
                for (Future<?> f : running) {
                    f.get(30, TimeUnit.SECONDS); // an unexpected exception fails the test here
                }
            }
        } finally {
            readers.shutdownNow();
        }
    }

    /**
     * Reads the way snapshots, verify and point reads do until the head closes under it: two
     * readers stream a namespace over and over from one view (as a snapshot does), the third
     * opens a view for every few point reads (racing the close with new views).
     */
    private static Void readUntilClosed(Head head, int nsId, int kind, CountDownLatch started) {
        byte[] buffer = new byte[16 << 10];
        boolean first = true;
        try {
            while (true) {
                try (HeadView view = head.openView()) {
                    if (first) {
                        started.countDown();
                        first = false;
                    }
                    if (kind == 2) {
                        for (int i = 0; i < 50; i++) {
                            assertTrue(view.document(nsId, new BsonInt32(i)).isPresent());
                            assertFalse(view.lastModified(nsId).isEmpty());
                            assertTrue(head.document(nsId, new BsonInt32(i)).isPresent());
                        }
                        continue;
                    }
                    while (true) {
                        try (HeadView.DocumentCursor c = view.documents(nsId)) {
                            if (kind == 0) {
                                long bytes = 0;
                                for (int n; (n = c.readBytes(buffer, 0, buffer.length)) >= 0; ) {
                                    bytes += n;
                                }
                                assertTrue(bytes > 0);
                            } else {
                                while (c.hasNext()) {
                                    c.nextBytes();
                                }
                            }
                        }
                    }
                }
            }
        } catch (HeadClosedException expected) {
            if (first) {
                started.countDown();
            }
            return null;
        }
    }
}
