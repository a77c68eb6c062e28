package io.tidemark.restore.pit;

import static io.tidemark.restore.pit.PitFixture.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.applier.Head;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rebuild killed with {@code kill -9} while it loads the snapshot leaves nothing under the
 * target head's name (only its staging directory), and the next rebuild succeeds from there and
 * equals the job's head.
 */
class HeadRebuildCrashTest {

    @TempDir
    Path dir;

    @Test
    void aKilledRebuildLeavesNoHeadAndARerunSucceeds() throws Exception {
        try (PitFixture fx = new PitFixture(dir)) {
            PitFixture.Job job = fx.new Job("move-crash", new OpTime(HeadRebuildTest.BASE, 0));
            HeadRebuildTest.workload(job, HeadRebuildTest.deltaTaker(fx), 900);
            Path target = dir.resolve("heads").resolve("move-crash");
            CountDownLatch loading = new CountDownLatch(1);
            Process child = ChildJvm.start(dir, List.of(), RebuildChild.class.getName(),
                    List.of(fx.mongo.uri(), dir.resolve("blocks").toString(), dir.resolve("child-data").toString(), job.id,
                            target.toString()),
                    line -> {
                        if (line.equals("LOADING")) {
                            loading.countDown();
                        }
                    }, line -> { });
            try {
                assertTrue(loading.await(60, TimeUnit.SECONDS), "the child started loading");
                Thread.sleep(300);
                assertTrue(child.isAlive(), "still rebuilding when killed");
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            assertFalse(Files.exists(target), "no head under the target's name after the kill");
            assertTrue(Files.isDirectory(target.resolveSibling("move-crash.rebuilding")), "the kill hit the staging head");

            HeadRebuildTest.rebuilds(fx).rebuild(job.id, target).block(TIMEOUT);
            assertFalse(Files.exists(target.resolveSibling("move-crash.rebuilding")));
            try (Head rebuilt = Head.open(target)) {
                HeadRebuildTest.assertSameHead(job.head, rebuilt);
            }
            job.close();
        }
    }
}
