package io.tidemark.shared.daemons;

import io.tidemark.shared.bus.Addresses;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The owner's side of a move on a real store: no snapshot or groom starts once the job moves, the
 * acknowledgement waits for the one running, the handover stops the owner's head before the
 * binding goes to the destination at epoch+1, every late step of a move that ended changes
 * nothing, and a destination that stops heartbeating fails the move with the job kept by its
 * owner and {@code tidemark.job.move.failed} published.
 */
class JobMovesTest extends DaemonsTestBase {

    private static final long GIB = 1L << 30;

    private JobMoves moves;

    @BeforeEach
    void moves() {
        moves = new JobMoves(stores.metadata(), vertx.eventBus());
    }

    @Test
    void theOwnerWaitsForItsSnapshotThenHandsOverAtTheNextEpochAfterStoppingItsHead() {
        HeldBindings owner = daemon("d-owner", 30 * GIB);
        String job = job("moving");
        claim(owner);
        assertTrue(owner.runs(job));
        daemon("d-dest", GIB);
        List<String> stopped = new CopyOnWriteArrayList<>();
        owner.onLost(stopped::add);

        Runnable snapshot = owner.enter(job);
        assertNotNull(snapshot, "nothing moves yet: a snapshot may start");
        JsonObject move = await(moves.request(job, "d-owner", 1, "d-dest", "test"));
        assertNotNull(move);
        assertNull(await(moves.request(job, "d-owner", 1, "d-dest", "test")), "one move at a time");
        claim(owner);
        assertTrue(owner.moving(job));
        assertNull(owner.enter(job), "no snapshot or groom starts while the job moves");
        assertEquals(JobMoves.REQUESTED, state(job), "not acknowledged while a snapshot runs");
        snapshot.run();
        claim(owner);
        assertEquals(JobMoves.REBUILDING, state(job), "acknowledged once none runs");

        // Steps of another move, or out of order, change nothing.
        JobMoves.Move m = JobMoves.Move.of(doc(job));
        JobMoves.Move other = new JobMoves.Move(job, "not-this-move", "d-owner", "d-dest", 1, JobMoves.REBUILDING, m.doc());
        assertFalse(await(moves.ready(other, new JsonObject())));
        assertFalse(await(moves.handOver(m, 60_000)), "no handover before the destination is ready");
        claim(owner);
        assertTrue(owner.runs(job), "the owner keeps running the job while the destination rebuilds");
        assertTrue(await(moves.ready(m, new JsonObject().put("bytesLoaded", 123L))));

        claim(owner);
        assertEquals(List.of(job), stopped, "the owner's head stopped before the handover");
        assertFalse(owner.runs(job));
        assertEquals(new JobBindings.Binding(job, "d-dest", 2), JobBindings.Binding.of(doc(job)));
        assertEquals(JobMoves.HANDED_OVER, state(job));
        assertFalse(await(owner.setOnJob(job, new JsonObject().put("appliedTs", new JsonObject().put("t", 99).put("i", 1)))),
                "nothing the old owner writes lands");

        // The destination takes the job (epoch 3, as any daemon finding a job bound to it) and completes.
        HeldBindings dest = new HeldBindings(vertx, stores.metadata(), "d-dest", config.daemons());
        claim(dest);
        assertTrue(dest.runs(job));
        JobMoves.Move handed = JobMoves.Move.of(doc(job));
        assertFalse(await(moves.complete(handed, 2, new JsonObject())), "completed only at the epoch held");
        assertTrue(await(moves.complete(handed, 3, new JsonObject())));
        JsonObject done = doc(job);
        assertNull(done.getJsonObject("move"));
        assertEquals("completed", done.getJsonObject("lastMove").getString("state"));
        assertEquals("d-dest", done.getJsonObject("lastMove").getString("to"));
        assertEquals(123L, done.getJsonObject("lastMove").getLong("bytesLoaded"));
        assertFalse(await(moves.fail(handed, "too late")), "a move that ended cannot fail");
        assertNotNull(dest.enter(job), "snapshots of the job start again, on the destination");
    }

    @Test
    void aMoveOfAJobWithNoCompleteSnapshotWaitsForOneAndLetsItBeTakenThenGoesOnAsRequested() {
        HeldBindings owner = daemon("d-owner", 30 * GIB);
        String job = job("first-snapshot");
        claim(owner);
        daemon("d-dest", GIB);
        JsonObject move = await(moves.request(job, "d-owner", 1, "d-dest", "test", true));
        assertEquals(JobMoves.SNAPSHOTTING, move.getString("state"));
        claim(owner);
        assertFalse(owner.moving(job), "snapshots of the job still start: the move waits for one");
        Runnable snapshot = owner.enter(job);
        assertNotNull(snapshot);
        assertEquals(JobMoves.SNAPSHOTTING, state(job), "no complete snapshot yet");

        // The snapshot completes (as the snapshotter records it).
        await(stores.metadata().insert("snapshots", new JsonObject().put("_id", "s-1").put("job", job).put("complete", true)
                .put("ts", new JsonObject().put("t", 5).put("i", 1)).put("createdAt", System.currentTimeMillis())));
        snapshot.run();
        claim(owner);
        assertEquals(JobMoves.REQUESTED, state(job));
        assertEquals("s-1", doc(job).getJsonObject("move").getString("snapshotId"));
        claim(owner);
        assertEquals(JobMoves.REBUILDING, state(job), "then acknowledged as any move");
        assertTrue(owner.moving(job));
        assertNull(owner.enter(job));
    }

    @Test
    void aDestinationThatStopsHeartbeatingFailsTheMoveAndTheOwnerKeepsTheJob() {
        HeldBindings owner = daemon("d-owner", 30 * GIB);
        String job = job("stays");
        claim(owner);
        daemon("d-gone", GIB);
        List<JsonObject> failed = new CopyOnWriteArrayList<>();
        await(vertx.eventBus().<JsonObject>consumer(Addresses.JOB_MOVE_FAILED, msg -> failed.add(msg.body())).completion());
        assertNotNull(await(moves.request(job, "d-owner", 1, "d-gone", "test")));
        claim(owner);
        assertEquals(JobMoves.REBUILDING, state(job));

        await(stores.metadata().updateCollection(DaemonRegistry.COLLECTION, new JsonObject().put("_id", "d-gone"),
                new JsonObject().put("$set", new JsonObject().put("heartbeatAt", System.currentTimeMillis() - 61_000))));
        claim(owner);
        JsonObject after = doc(job);
        assertNull(after.getJsonObject("move"));
        assertEquals("failed", after.getJsonObject("lastMove").getString("state"));
        assertTrue(after.getJsonObject("lastMove").getString("error").contains("d-gone stopped heartbeating"),
                after.getJsonObject("lastMove").encode());
        assertEquals(new JobBindings.Binding(job, "d-owner", 1), JobBindings.Binding.of(after), "the owner keeps the job");
        assertTrue(owner.runs(job));
        assertFalse(owner.moving(job));
        assertNotNull(owner.enter(job), "its snapshots start again");
        long deadline = System.currentTimeMillis() + 5_000;
        while (failed.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, failed.size(), failed.toString());
        assertEquals(job, failed.get(0).getString("job"));
        assertEquals("d-gone", failed.get(0).getString("to"));
    }

    @Test
    void aMoveWhoseOwnerChangedMeanwhileIsFailedByTheNewOwner() {
        HeldBindings owner = daemon("d-owner", 30 * GIB);
        String job = job("orphaned");
        claim(owner);
        daemon("d-dest", GIB);
        assertNotNull(await(moves.request(job, "d-owner", 1, "d-dest", "test")));
        // The owner restarts before acknowledging: it takes its job again at epoch 2.
        HeldBindings restarted = new HeldBindings(vertx, stores.metadata(), "d-owner", config.daemons());
        claim(restarted);
        claim(restarted);
        JsonObject after = doc(job);
        assertEquals(new JobBindings.Binding(job, "d-owner", 2), JobBindings.Binding.of(after));
        assertNull(after.getJsonObject("move"));
        assertTrue(after.getJsonObject("lastMove").getString("error").contains("owner changed"), after.encode());
    }

    private void claim(HeldBindings daemon) {
        await(daemon.claim(await(stores.jobs().list())));
    }

    private String state(String job) {
        return doc(job).getJsonObject("move").getString("state");
    }
}
