package io.tidemark.snapshotter;

import static io.tidemark.snapshotter.SnapshotFixture.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tidemark.applier.Head;
import io.tidemark.applier.HeadClosedException;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.bench.SyntheticHead;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A resync, a FAILED job or shutdown closes a head on its own thread while a snapshot may be
 * reading it. 100 times, at varying moments: the snapshot completes or fails with the head's
 * {@link HeadClosedException}, and the process never touches freed native memory.
 */
class SnapshotDuringCloseTest {

    @TempDir
    Path dir;

    @Test
    void closingTheHeadWhileASnapshotReadsItNeverCrashes() throws Exception {
        Path headDir = dir.resolve("head");
        try (Head head = Head.open(headDir)) {
            SyntheticHead.load(head, new SyntheticDocuments(3), 1L << 20);
        }
        Random random = new Random(11);
        ExecutorService headThread = Executors.newSingleThreadExecutor();
        int completed = 0;
        int closedUnder = 0;
        try (SnapshotFixture fx = new SnapshotFixture(dir.resolve("data"))) {
            BlockStore store = fx.blockStore("packed", dir);
            SnapshotTaker taker = fx.taker(store);
            for (int round = 0; round < 100; round++) {
                Head head = Head.open(headDir);
                long delayMicros = random.nextInt(20_000);
                CompletableFuture<SnapshotSummary> snapshot = taker.take("job", head, SnapshotTaker.newSnapshotId(),
                        () -> headThread.execute(() -> {
                            // As the applier does: on the head's thread, some time into the snapshot.
                            sleepMicros(delayMicros);
                            head.close();
                        })).toFuture();
                try {
                    snapshot.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                    completed++;
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!causedByClose(e)) {
                        fail("round " + round + ": the snapshot failed otherwise than by the close", e);
                    }
                    closedUnder++;
                }
                headThread.submit(head::close).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            headThread.shutdownNow();
        }
        assertTrue(closedUnder > 0, "some closes came during a snapshot (completed " + completed + ")");
    }

    /**
     * Whether every root cause of {@code e} is the close (namespaces read in parallel may each
     * fail, and Reactor reports them together as suppressed exceptions).
     */
    private static boolean causedByClose(Throwable e) {
        List<Throwable> next = new ArrayList<>(List.of(e));
        boolean any = false;
        while (!next.isEmpty()) {
            Throwable t = next.remove(next.size() - 1);
            if (t instanceof HeadClosedException) {
                any = true;
                continue;
            }
            if (t.getCause() == null && t.getSuppressed().length == 0) {
                return false;
            }
            if (t.getCause() != null) {
                next.add(t.getCause());
            }
            next.addAll(List.of(t.getSuppressed()));
        }
        return any;
    }

    private static void sleepMicros(long micros) {
        try {
            TimeUnit.MICROSECONDS.sleep(micros);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
