package io.tidemark.shared.daemons;

import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.jobs.JobState;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bindings on a real store: a new job goes to the daemon the rule picks at epoch 1, a change of
 * owner is a compare-and-set to epoch+1 that a second changer with the same stale epoch loses,
 * and once another daemon holds the job every fenced write of the ex-owner is refused and changes
 * nothing.
 */
class HeldBindingsTest extends DaemonsTestBase {

    private static final long GIB = 1L << 30;

    @Test
    void newJobsGoToTheDaemonWithTheMostFreeHeadSpaceThenTheFewestJobs() {
        HeldBindings small = daemon("d-small", 10 * GIB);
        HeldBindings big = daemon("d-big", 20 * GIB + 5);
        String first = job("first");
        List<JsonObject> jobs = await(stores.jobs().list());
        await(small.claim(jobs));
        assertFalse(small.runs(first), "the rule gives it to the daemon with more free space");
        await(big.claim(jobs));
        assertTrue(big.runs(first));
        assertEquals(new JobBindings.Binding(first, "d-big", 1), JobBindings.Binding.of(doc(first)));
        assertTrue(await(new JobBindings(stores.metadata()).leaseUntil(first)) > System.currentTimeMillis(), "its lease runs");

        // Free space within 1 GiB of the most counts as equal: the one with fewer jobs.
        HeldBindings twin = daemon("d-twin", 20 * GIB + 9);
        String second = job("second");
        jobs = await(stores.jobs().list());
        await(big.claim(jobs));
        await(twin.claim(jobs));
        assertTrue(twin.runs(second), "d-big holds one job already");
        assertFalse(big.runs(second));
    }

    @Test
    void aJobWhoseOwnerFellSilentFailsOverToALiveDaemonAtTheNextEpoch() {
        HeldBindings owner = daemon("d-owner", 30 * GIB);
        String job = job("orphan");
        await(owner.claim(await(stores.jobs().list())));
        assertTrue(owner.runs(job));
        HeldBindings survivor = daemon("d-survivor", GIB);
        HeldBindings bystander = new HeldBindings(vertx, stores.metadata(), "d-bystander", ConfigLoader.load(null, Map.of(
                "TIDEMARK_DATADIR", tmp.toString(), "TIDEMARK_DAEMONS_LEASESECONDS", "60", "TIDEMARK_DAEMONS_RENEWSECONDS", "1",
                "TIDEMARK_DAEMONS_FAILOVER", "false")).daemons());
        await(survivor.claim(await(stores.jobs().list())));
        assertFalse(survivor.runs(job), "nobody takes a job whose lease runs");

        // The owner falls silent: its lease and its heartbeat end in the past, as a dead daemon's do.
        long past = System.currentTimeMillis() - 61_000;
        await(stores.metadata().updateCollection(JobBindings.LEASES, new JsonObject().put("_id", job),
                new JsonObject().put("$set", new JsonObject().put("leaseUntil", past))));
        await(stores.metadata().updateCollection(DaemonRegistry.COLLECTION, new JsonObject().put("_id", "d-owner"),
                new JsonObject().put("$set", new JsonObject().put("heartbeatAt", past))));
        await(new DaemonRegistry(stores.metadata()).heartbeat("d-bystander", new JsonObject().put("headFreeBytes", 99 * GIB)));
        List<JsonObject> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        await(vertx.eventBus().<JsonObject>consumer(io.tidemark.shared.bus.Addresses.JOB_FAILED_OVER, m -> events.add(m.body())).completion());
        List<JsonObject> jobs = await(stores.jobs().list());
        await(bystander.claim(jobs));
        assertFalse(bystander.runs(job), "failover off: it takes nothing, and the rule's pick...");
        await(survivor.claim(jobs));
        assertFalse(survivor.runs(job), "...is the live daemon with the most free space, failover off or not");
        await(new DaemonRegistry(stores.metadata()).setSwitches("d-bystander", false, null));
        await(survivor.claim(await(stores.jobs().list())));
        assertTrue(survivor.runs(job), "taken over by the surviving daemon");
        assertEquals(new JobBindings.Binding(job, "d-survivor", 2), JobBindings.Binding.of(doc(job)));
        assertTrue(await(new JobBindings(stores.metadata()).leaseUntil(job)) > System.currentTimeMillis(), "with a lease of its own");
        long deadline = System.currentTimeMillis() + 5_000;
        while (events.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, events.size(), events.toString());
        assertEquals("d-owner", events.get(0).getString("from"));
        assertEquals("d-survivor", events.get(0).getString("to"));

        // The silent owner, back: its fenced write lands nothing, and it lets the job go.
        JsonObject before = doc(job);
        assertFalse(await(owner.setOnJob(job, new JsonObject().put("appliedTs", new JsonObject().put("t", 9).put("i", 9)))));
        assertEquals(before.getJsonObject("appliedTs"), doc(job).getJsonObject("appliedTs"));
        assertFalse(owner.runs(job));
    }

    @Test
    void theRuleSkipsDaemonsSwitchedOffOrSilent() {
        long now = System.currentTimeMillis();
        List<JsonObject> daemons = List.of(
                new JsonObject().put("_id", "off").put("headFreeBytes", 99 * GIB).put("assignment", false).put("heartbeatAt", now),
                new JsonObject().put("_id", "maint").put("headFreeBytes", 98 * GIB).put("backupJobs", false).put("heartbeatAt", now),
                new JsonObject().put("_id", "gone").put("headFreeBytes", 97 * GIB).put("heartbeatAt", now - 61_000),
                new JsonObject().put("_id", "ok").put("headFreeBytes", GIB).put("heartbeatAt", now));
        assertEquals("ok", BindingRule.choose(daemons, Map.of(), now, 60_000).orElseThrow());
        assertTrue(BindingRule.choose(daemons.subList(0, 3), Map.of(), now, 60_000).isEmpty());
    }

    @Test
    void renewingALeaseLeavesTheJobDocumentAsItIs() {
        HeldBindings a = daemon("d-a", GIB);
        String job = job("renewed");
        await(a.claim(await(stores.jobs().list())));
        JobBindings bindings = new JobBindings(stores.metadata());
        JsonObject before = doc(job);
        long lease = await(bindings.leaseUntil(job));
        assertTrue(await(bindings.renew(job, "d-a", 1, 90_000)));
        assertTrue(await(bindings.leaseUntil(job)) > lease);
        assertEquals(before, doc(job), "a renewal writes only the binding document");
        assertFalse(await(bindings.renew(job, "d-other", 1, 90_000)), "only the holder renews");
    }

    @Test
    void aChangeOfOwnerIsACompareAndSetThatOneRacerWins() {
        HeldBindings a = daemon("d-a", GIB);
        String job = job("raced");
        await(a.claim(await(stores.jobs().list())));
        JobBindings bindings = new JobBindings(stores.metadata());
        assertTrue(await(bindings.take(job, 1, "d-b", 60_000)));
        assertFalse(await(bindings.take(job, 1, "d-c", 60_000)), "the same stale epoch cannot win twice");
        JobBindings.Binding now = JobBindings.Binding.of(doc(job));
        assertEquals("d-b", now.daemon());
        assertEquals(2, now.epoch());
    }

    @Test
    void anExOwnersFencedWritesAreRefusedAndChangeNothing() {
        HeldBindings a = daemon("d-a", GIB);
        List<String> lost = new ArrayList<>();
        a.onLost(lost::add);
        String job = job("fenced");
        await(a.claim(await(stores.jobs().list())));
        assertTrue(a.runs(job));
        // While it holds the job, its writes land.
        await(a.admit(job));
        assertTrue(await(a.setOnJob(job, new JsonObject().put("appliedTs", new JsonObject().put("t", 6).put("i", 1)))));

        // Another daemon takes the job (epoch 2) while a is, say, paused.
        assertTrue(await(new JobBindings(stores.metadata()).take(job, 1, "d-b", 60_000)));
        JsonObject before = doc(job);

        // The job-document write: one conditional update that matches nothing.
        assertFalse(await(a.setOnJob(job, new JsonObject().put("appliedTs", new JsonObject().put("t", 99).put("i", 1)))));
        // A failure transition with the held filter matches nothing either.
        assertTrue(a.heldFilter(job).containsKey("binding.epoch"));
        assertFalse(await(stores.jobs().transition(job, EnumSet.of(JobState.ACTIVE), a.heldFilter(job), JobState.FAILED,
                new JsonObject().put("error", "stale"))));
        JsonObject after = doc(job);
        after.remove("updatedAt");
        before.remove("updatedAt");
        assertEquals(before, after, "nothing the ex-owner wrote landed");
        assertEquals(List.of(job), lost, "the ex-owner learnt at once that it lost the job");
        assertFalse(a.runs(job));

        // The admit before writes elsewhere (catalog, manifests, groom deletions).
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> a.admit(job).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));
        assertInstanceOf(StaleBindingException.class, refused.getCause());
    }

    @Test
    void anAdmitAfterItsLeaseRanOutLocallyIsRefusedEvenIfTheStoreStillNamesIt() throws Exception {
        TidemarkConfig shortLease = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", tmp.toString(),
                "TIDEMARK_DAEMONS_LEASESECONDS", "3", "TIDEMARK_DAEMONS_RENEWSECONDS", "1"));
        await(new DaemonRegistry(stores.metadata()).heartbeat("d-p", new JsonObject().put("headFreeBytes", GIB)));
        HeldBindings paused = new HeldBindings(vertx, stores.metadata(), "d-p", shortLease.daemons());
        String job = job("paused");
        await(paused.claim(await(stores.jobs().list())));
        await(paused.admit(job));
        // Never renewed (as if paused): past three quarters of the lease, no write is admitted.
        Thread.sleep(2_400);
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> paused.admit(job).toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS));
        assertInstanceOf(StaleBindingException.class, refused.getCause());
        assertEquals("d-p", JobBindings.Binding.of(doc(job)).daemon(), "the store still names it: the local deadline decided");
    }
}
