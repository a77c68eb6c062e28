package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.shared.jobs.JobState;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A job's state changes only from the state (and sync generation) its writer saw: a report that
 * arrives after an operator's resync cannot undo it.
 */
class JobStateRaceTest {

    private static final OpTime START = new OpTime(1_700_000_000L, 1);

    @TempDir
    static Path dataDir;

    static TestServer test;
    static TidemarkServer server;
    static IngestClient agent;

    @BeforeAll
    static void start() {
        test = TestServer.start(dataDir);
        server = test.server();
        agent = test.agent(test.creds().getString("agentKey"));
    }

    @AfterAll
    static void stop() {
        agent.close();
        test.close();
    }

    @Test
    void aLateResyncRequiredReportDoesNotUndoAnOperatorsResync() {
        String job = get(agent.register("late-report", "h")).getString("job");
        get(agent.beginSync(job, START, START));
        assertEquals("RESYNC_REQUIRED", get(agent.resyncRequired(job, "position lost")).getString("state"));
        assertEquals("INITIAL_SYNC", test.admin().post("/jobs/" + job + "/resync", new JsonObject()).getString("state"));

        // The agent's report about the sync the operator just replaced arrives late (or again).
        assertEquals("INITIAL_SYNC", get(agent.resyncRequired(job, "position lost, said again")).getString("state"));
        JsonObject stored = CaptureHarness.job(server, "late-report");
        assertEquals("INITIAL_SYNC", stored.getString("state"), "the operator's resync stands");
        assertEquals(null, stored.getString("error"));

        // Once the agent has begun the new sync, a report about it counts again.
        assertEquals(2L, get(agent.beginSync(job, START, START)));
        assertEquals("RESYNC_REQUIRED", get(agent.resyncRequired(job, "lost again")).getString("state"));
        assertEquals("lost again", CaptureHarness.job(server, "late-report").getString("error"));
    }

    @Test
    void aFailureOfAnOlderGenerationsHeadDoesNotUndoAnOperatorsResync() {
        String job = get(agent.register("late-failure", "h")).getString("job");
        long gen = get(agent.beginSync(job, START, START));
        // As the applier does when its head for generation 'gen' fails, after an operator's resync:
        // the job is in INITIAL_SYNC, or already ACTIVE again on a newer generation.
        assertFalse(fail(job, gen), "the job is in INITIAL_SYNC");
        get(agent.endSync(job, gen, START, 0, 0));
        assertFalse(fail(job, gen - 1), "the job is ACTIVE on a newer generation");
        assertEquals("ACTIVE", CaptureHarness.job(server, "late-failure").getString("state"));
        assertTrue(fail(job, gen), "a failure of the current generation's head counts");
        assertEquals("FAILED", CaptureHarness.job(server, "late-failure").getString("state"));
    }

    private static boolean fail(String job, long generation) {
        return get(server.stores().jobs().transition(job, EnumSet.of(JobState.ACTIVE),
                new JsonObject().put("sync.generation", generation), JobState.FAILED, new JsonObject().put("error", "head failed")));
    }

    private static <T> T get(Future<T> f) {
        return CaptureHarness.join(f);
    }
}
