package io.tidemark.groomer;

import io.tidemark.shared.blocks.BlockCodec;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.daemons.SweepLocks;
import io.tidemark.shared.oplog.OpTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static io.tidemark.groomer.GroomFixture.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A block no snapshot references is kept while another daemon's snapshot runs (which may have
 * found it and referenced it, where this daemon's fence cannot see), and deleted by the next sweep
 * once that snapshot ended: the groomer's sweep goes through {@link SweepLocks}.
 */
class SweepAcrossDaemonsTest {

    @TempDir
    static Path dir;

    static GroomFixture fx;

    @BeforeAll
    static void start() {
        fx = new GroomFixture(dir.resolve("data"), Map.of());
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @Test
    void anUnreferencedBlockOutlivesASweepWhileAnotherDaemonsSnapshotRuns() {
        FencedBlockStore blocks = fx.blockStore(dir);
        byte[] data = "found again by another daemon's snapshot".getBytes(StandardCharsets.UTF_8);
        BlockId orphan = BlockId.of(data);
        blocks.delegate().putIfAbsent(orphan, BlockCodec.compress(data, 3), data.length).block(TIMEOUT);
        // Old enough for the sweep's grace period.
        fx.clock.set(Instant.now().plus(Duration.ofDays(1)));
        OpTime t = new OpTime(Instant.now().getEpochSecond(), 1);
        String job = fx.activeJob("sweep-across-" + System.nanoTime(), t, t, t);
        SweepLocks mine = new SweepLocks(fx.vertx, fx.stores.metadata(), "d-sweeper", 60_000);
        SweepLocks theirs = new SweepLocks(fx.vertx, fx.stores.metadata(), "d-other", 60_000);
        try {
            Groomer groomer = new Groomer(fx.config, fx.stores, blocks, fx.clock).sweepLockedBy(mine, Duration.ofSeconds(2));
            long admitted = await(theirs.admitSnapshot("their-snapshot"));

            GroomReport kept = groomer.groom(job, false, Groomer.Sweep.ALWAYS);
            assertEquals(0, kept.blocksDeleted(), kept.toJson().encode());
            assertTrue(blocks.delegate().exists(orphan).block(TIMEOUT), "kept while the other daemon's snapshot runs");
            await(theirs.unswept("their-snapshot", admitted)); // the snapshot may complete: no sweep ran under it
            await(theirs.releaseSnapshot("their-snapshot"));

            GroomReport swept = groomer.groom(job, false, Groomer.Sweep.ALWAYS);
            assertEquals(1, swept.blocksDeleted(), swept.toJson().encode());
            assertFalse(blocks.delegate().exists(orphan).block(TIMEOUT), "deleted once it ended");
        } finally {
            mine.close();
            theirs.close();
        }
    }
}
