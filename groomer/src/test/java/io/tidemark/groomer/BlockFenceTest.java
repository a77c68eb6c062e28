package io.tidemark.groomer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.blocks.BlockId;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Both orders of the race between a writer's lookup and a sweep's delete. */
class BlockFenceTest {

    private static BlockId id(int n) {
        return BlockId.of(("block " + n).getBytes());
    }

    @Test
    void aBlockLookedUpSinceTheProtectionStartIsNotDeleted() {
        BlockFence fence = new BlockFence(16, BlockFence.MARGIN_MS);
        assertNull(fence.touch(id(1)));
        fence.startSweep(System.currentTimeMillis() - 1000);
        AtomicBoolean deleted = new AtomicBoolean();
        assertFalse(fence.deleteUnlessTouched(id(1), () -> deleted.set(true)));
        assertFalse(deleted.get());
        assertTrue(fence.deleteUnlessTouched(id(2), () -> deleted.set(true)));
        assertTrue(deleted.get());
    }

    @Test
    void aLookupDuringADeleteWaitsForIt() throws Exception {
        BlockFence fence = new BlockFence(16, BlockFence.MARGIN_MS);
        fence.startSweep(System.currentTimeMillis());
        CountDownLatch deleting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<CompletableFuture<Void>> seen = new AtomicReference<>();
        Thread sweeper = new Thread(() -> fence.deleteUnlessTouched(id(3), () -> {
            deleting.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        sweeper.start();
        assertTrue(deleting.await(10, TimeUnit.SECONDS));
        seen.set(fence.touch(id(3)));
        assertNotNull(seen.get(), "the writer learns of the delete under way");
        assertFalse(seen.get().isDone(), "and waits for it");
        release.countDown();
        seen.get().get(10, TimeUnit.SECONDS);
        sweeper.join(10_000);
    }

    @Test
    void generationsOlderThanEveryInFlightSnapshotAreForgotten() throws Exception {
        BlockFence fence = new BlockFence(16, BlockFence.MARGIN_MS);
        fence.touch(id(4));
        Thread.sleep(5);
        // An in-flight snapshot that began before the touch keeps it protected.
        fence.startSweep(fence.startedAtMillis());
        assertTrue(fence.mightHaveBeenTouched(id(4)));
        // Once nothing in flight began before (a minute past) the next generation, it goes.
        fence.startSweep(System.currentTimeMillis() + 2 * BlockFence.MARGIN_MS);
        fence.startSweep(System.currentTimeMillis() + 2 * BlockFence.MARGIN_MS);
        assertFalse(fence.mightHaveBeenTouched(id(4)));
        assertEquals(1, fence.generations());
    }

    @Test
    void atMostThreeGenerationsAreKeptAndMergingKeepsEveryTouch() {
        BlockFence fence = new BlockFence(16, BlockFence.MARGIN_MS);
        for (int i = 0; i < 6; i++) {
            fence.touch(id(100 + i));
            fence.startSweep(fence.startedAtMillis());
        }
        assertEquals(3, fence.generations());
        for (int i = 0; i < 6; i++) {
            assertTrue(fence.mightHaveBeenTouched(id(100 + i)));
        }
    }
}
