package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.agent.IngestRejection;
import io.tidemark.shared.jobs.JobIds;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.ApiKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Agent keys are scoped to deployments: a key acts only for the deployments in its scope, a
 * refusal is a 403 that changes nothing, admins widen and narrow scopes, and admin tokens and
 * agent keys never stand in for each other. Job ids cannot be taken over by another name.
 */
class AgentScopeTest {

    private static final OpTime START = new OpTime(1_700_000_000L, 1);

    @TempDir
    static Path dataDir;

    static TestServer test;
    static TidemarkServer server;
    static Vertx vertx;
    static JsonObject creds;
    static AdminClient admin;
    static JsonObject keyA;
    static JsonObject keyB;
    static IngestClient agentA;
    static IngestClient agentB;
    static String jobA;
    static String jobB;
    static long genB;

    @BeforeAll
    static void start() {
        test = TestServer.start(dataDir);
        server = test.server();
        vertx = test.vertx();
        creds = test.creds();
        admin = test.admin();
        keyA = admin.post("/keys", new JsonObject().put("kind", "agent").put("name", "agent of A"));
        keyB = admin.post("/keys", new JsonObject().put("kind", "agent").put("name", "agent of B"));
        agentA = client(keyA.getString("token"));
        agentB = client(keyB.getString("token"));
        jobA = get(agentA.register("deployment-a", "host-a")).getString("job");
        jobB = get(agentB.register("deployment-b", "host-b")).getString("job");
        // B gets state in every store: a running sync with a collection and a slice, and oplog batches.
        genB = get(agentB.beginSync(jobB, START, START));
        get(agentB.putCollection(jobB, genB, "shop.orders", collectionInfo("orders")));
        get(agentB.putSlice(jobB, genB, "shop.orders", 0, docs(1, 2, 3)));
        get(agentB.sendOplog(jobB, START, entries(next(START, 1), next(START, 2))));
    }

    @AfterAll
    static void stop() {
        agentA.close();
        agentB.close();
        test.close();
    }

    @Test
    void aKeyOfAnotherDeploymentGets403OnEveryAgentEndpointAndChangesNothing() {
        OpTime tipB = next(START, 2);
        // The stored position reaches the job record a moment after the acknowledgement.
        CaptureHarness.await("B's stored position in its record", java.time.Duration.ofSeconds(10),
                () -> tipB.toJson().equals(CaptureHarness.job(server, "deployment-b").getJsonObject("storedTs")));
        CaptureHarness.awaitBound(server, jobB);
        String before = storedState(jobB);
        List<Supplier<Future<?>>> calls = List.of(
                () -> agentA.register("deployment-b", "intruder"),
                () -> agentA.heartbeat(jobB, new JsonObject().put("hostname", "intruder")),
                () -> agentA.resyncRequired(jobB, "intruder says so"),
                () -> agentA.beginSync(jobB, START, START),
                () -> agentA.putCollection(jobB, genB, "shop.evil", collectionInfo("evil")),
                () -> agentA.putSlice(jobB, genB, "shop.orders", 1, docs(666)),
                () -> agentA.endSync(jobB, genB, next(START, 9), 4, 1),
                () -> agentA.sendOplog(jobB, tipB, entries(next(tipB, 1))));
        for (Supplier<Future<?>> call : calls) {
            IngestRejection r = rejected(call.get());
            assertEquals(403, r.status(), r.getMessage());
            assertTrue(r.getMessage().contains("outside this agent key's scope"), r.getMessage());
        }
        assertEquals(before, storedState(jobB), "B's job record, sync store and oplog store are unchanged");

        // The same key still works on its own deployment.
        assertEquals(jobA, get(agentA.register("deployment-a", "host-a")).getString("job"));
        assertEquals("INITIAL_SYNC", get(agentA.heartbeat(jobA, new JsonObject())).getString("state"));
        long genA = get(agentA.beginSync(jobA, START, START));
        assertEquals(next(START, 1), get(agentA.sendOplog(jobA, START, entries(next(START, 1)))));
        assertEquals(1, genA);
    }

    @Test
    void adminTokensAndAgentKeysNeverStandInForEachOther() {
        IngestClient withAdminToken = client(creds.getString("adminToken"));
        try {
            assertEquals(401, rejected(withAdminToken.heartbeat(jobB, new JsonObject())).status());
            assertEquals(401, rejected(withAdminToken.register("deployment-b", "h")).status());
        } finally {
            withAdminToken.close();
        }
        for (String agentKey : List.of(keyA.getString("token"), creds.getString("agentKey"))) {
            try (AdminClient withAgentKey = new AdminClient(server.config().dataPath(), server.apiUrl(), agentKey,
                    creds.getString("certificateSha256"))) {
                CliException e = assertThrows(CliException.class, () -> withAgentKey.get("/jobs"));
                assertTrue(e.getMessage().contains("wrong kind"), e.getMessage());
                assertThrows(CliException.class, () -> withAgentKey.post("/keys", new JsonObject().put("kind", "agent")));
            }
        }
    }

    @Test
    void aKeyCreatedWithDeploymentsActsForExactlyThoseAndAdminsWidenAndNarrowIt() {
        JsonObject fixed = new JsonObject(CliRun.okIn(dataDir, "keys", "create", "--name", "fixed", "--deployment", "fixed-one",
                "--json"));
        assertEquals(new JsonArray().add("fixed-one"), fixed.getJsonArray("deployments"));
        IngestClient agent = client(fixed.getString("token"));
        try {
            String job = get(agent.register("fixed-one", "h")).getString("job");
            assertEquals("fixed-one", CaptureHarness.job(server, "fixed-one").getString("name"));
            assertEquals(403, rejected(agent.register("fixed-two", "h")).status());
            assertTrue(CaptureHarness.job(server, "fixed-two").isEmpty(), "a refused registration creates no job");
            assertEquals(403, rejected(agent.heartbeat(jobB, new JsonObject())).status());

            // Widening counts at once, though the key is in the authentication cache.
            String out = CliRun.okIn(dataDir, "keys", "scope", fixed.getString("id"), "--add", "deployment-b");
            assertTrue(out.contains("deployment-b"), out);
            assertEquals(jobB, get(agent.heartbeat(jobB, new JsonObject())).getString("job"));
            // Narrowing too, on this front end; others within the cache bound.
            CliRun.okIn(dataDir, "keys", "scope", fixed.getString("id"), "--remove", "deployment-b");
            assertEquals(403, rejected(agent.heartbeat(jobB, new JsonObject())).status());
            assertEquals(job, get(agent.heartbeat(job, new JsonObject())).getString("job"));
            JsonObject listed = new JsonArray(CliRun.okIn(dataDir, "keys", "list", "--json")).stream().map(k -> (JsonObject) k)
                    .filter(k -> fixed.getString("id").equals(k.getString("id"))).findFirst().orElseThrow();
            assertEquals(new JsonArray().add("fixed-one"), listed.getJsonArray("deployments"));
            assertFalse(listed.getBoolean("growing"));
        } finally {
            agent.close();
        }
    }

    @Test
    void aScopeWidenedThroughAnotherFrontEndCountsAtOnce() {
        JsonObject key = admin.post("/keys", new JsonObject().put("kind", "agent").put("name", "roaming"));
        IngestClient agent = client(key.getString("token"));
        try {
            String own = get(agent.register("roaming-own", "h")).getString("job");
            assertEquals(403, rejected(agent.heartbeat(jobA, new JsonObject())).status());
            // Another front end, sharing the metadata DB, widens the scope: this one's cache does not know.
            assertTrue(get(new ApiKeys(server.stores().metadata()).rescope(key.getString("id"), List.of("deployment-a"),
                    List.of(), null)).getJsonArray("deployments").contains("deployment-a"));
            assertEquals(jobA, get(agent.heartbeat(jobA, new JsonObject())).getString("job"));
            assertEquals(own, get(agent.heartbeat(own, new JsonObject())).getString("job"));
        } finally {
            agent.close();
        }
    }

    @Test
    void aNameWhoseIdIsTakenGets409AndTheJobHoldingItIsUntouched() {
        // What an offline search for a colliding name would find, planted instead of searched for.
        String victim = JobIds.forDeployment("newcomer");
        JsonObject planted = new JsonObject().put("_id", victim).put("name", "squatter").put("state", "STOPPED")
                .put("createdAt", 1L).put("updatedAt", 1L).put("sync", new JsonObject().put("generation", 3L).put("complete", false));
        get(server.stores().metadata().insert("jobs", planted));
        CaptureHarness.awaitBound(server, victim);
        String before = storedState(victim);
        IngestRejection r = rejected(agentA.register("newcomer", "h"));
        assertEquals(409, r.status(), r.getMessage());
        assertTrue(r.getMessage().contains("already taken"), r.getMessage());
        assertEquals(before, storedState(victim));
        assertFalse(scopeOf(keyA.getString("id")).contains("newcomer"), "a refused registration widens no scope");
    }

    @Test
    void jobsFromBeforeFullLengthIdsKeepTheirIds() {
        String legacyId = "legacy-shop-a1b2c3";
        get(server.stores().metadata().insert("jobs", new JsonObject().put("_id", legacyId).put("name", "legacy-shop")
                .put("state", "INITIAL_SYNC").put("createdAt", 1L).put("updatedAt", 1L)
                .put("sync", new JsonObject().put("generation", 0L).put("complete", false))));
        get(new ApiKeys(server.stores().metadata()).rescope(keyA.getString("id"), List.of("legacy-shop"), List.of(), null));
        assertEquals(legacyId, get(agentA.register("legacy-shop", "h")).getString("job"));
        assertEquals(403, rejected(agentB.register("legacy-shop", "h")).status());
        assertNotEquals(legacyId, JobIds.forDeployment("legacy-shop"));
        assertTrue(JobIds.forDeployment("legacy-shop").matches("legacy-shop-[0-9a-f]{64}"), JobIds.forDeployment("legacy-shop"));
    }

    @Test
    void agentKeysFromBeforeScopesKeepWhatExistedAndNothingRegisteredLater() throws Exception {
        String token = "tmg_0123456789ab_" + "s".repeat(43);
        get(server.stores().metadata().insert("apiKeys", new JsonObject().put("_id", "0123456789ab").put("kind", "AGENT")
                .put("name", "from an older version").put("hash", sha256(token)).put("createdAt", 1L)));
        Bootstrap.ensureCredentials(vertx, server.stores(), dataDir).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        List<String> scope = scopeOf("0123456789ab");
        assertTrue(scope.contains("deployment-a") && scope.contains("deployment-b"), scope.toString());
        IngestClient old = client(token);
        try {
            assertEquals(jobA, get(old.heartbeat(jobA, new JsonObject())).getString("job"));
            String later = get(agentA.register("registered-after-the-upgrade", "h")).getString("job");
            assertEquals(403, rejected(old.heartbeat(later, new JsonObject())).status());
            assertTrue(get(old.register("new-for-old-key", "h")).getString("job").startsWith("new-for-old-key-"));
        } finally {
            old.close();
        }
    }

    @Test
    void keyBodiesAreCheckedAndABadOneStoresNothing() {
        int before = admin.get("/keys").getJsonArray("keys").size();
        List<JsonObject> bad = List.of(
                new JsonObject().put("kind", "agent").put("name", 5),
                new JsonObject().put("kind", "agent").put("name", "x".repeat(101)),
                new JsonObject().put("kind", "agent").put("name", "line\nbreak"),
                new JsonObject().put("kind", "agent").put("name", ""),
                new JsonObject().put("kind", 7),
                new JsonObject().put("kind", "agent").put("deployments", "deployment-a"),
                new JsonObject().put("kind", "agent").put("deployments", new JsonArray().add(5)),
                new JsonObject().put("kind", "agent").put("deployments", new JsonArray().add("no\u0000nul")),
                new JsonObject().put("kind", "agent").put("deployments", new JsonArray(java.util.Collections.nCopies(1001, "d"))),
                new JsonObject().put("kind", "admin").put("deployments", new JsonArray().add("deployment-a")));
        for (JsonObject body : bad) {
            CliException e = assertThrows(CliException.class, () -> admin.post("/keys", body), body.encode());
            assertTrue(e.getMessage().contains("'"), e.getMessage());
        }
        assertThrows(CliException.class, () -> admin.post("/keys/" + keyA.getString("id") + "/scope",
                new JsonObject().put("add", new JsonArray().add(new JsonObject()))));
        assertThrows(CliException.class, () -> admin.post("/keys/" + keyA.getString("id") + "/scope",
                new JsonObject().put("growing", "yes")));
        CliException unknown = assertThrows(CliException.class, () -> admin.post("/keys/000000000000/scope",
                new JsonObject().put("add", new JsonArray().add("deployment-a"))));
        assertTrue(unknown.getMessage().contains("no agent key"), unknown.getMessage());
        assertEquals(before, admin.get("/keys").getJsonArray("keys").size());
    }

    private static List<String> scopeOf(String keyId) {
        JsonObject record = get(server.stores().metadata().findOne("apiKeys", new JsonObject().put("_id", keyId), null));
        List<String> out = new ArrayList<>();
        record.getJsonArray("deployments", new JsonArray()).forEach(d -> out.add((String) d));
        return out;
    }

    /** The job's record and every document of the blockstore DB that belongs to it, as stored. */
    private static String storedState(String job) {
        StringBuilder out = new StringBuilder(get(server.stores().metadata().findOne("jobs", new JsonObject().put("_id", job), null))
                .encode());
        var db = server.stores().blockstore().database();
        Map<String, String> docs = new TreeMap<>();
        for (String collection : Flux.from(db.listCollectionNames()).collectList().block()) {
            for (RawBsonDocument d : Flux.from(db.getCollection(collection, RawBsonDocument.class).find()).toIterable()) {
                if (d.toJson().contains(job)) {
                    docs.put(collection + " " + d.get("_id").toString(), HexFormat.of().formatHex(CaptureHarness.bytes(d)));
                }
            }
        }
        assertFalse(docs.isEmpty() && job.equals(jobB) && docs.keySet().stream().noneMatch(k -> k.startsWith("syncSlices")),
                "the sync store holds B's slice");
        docs.forEach((k, v) -> out.append('\n').append(k).append(' ').append(v));
        return out.toString();
    }

    private static IngestClient client(String token) {
        return test.agent(token);
    }

    private static byte[] collectionInfo(String name) {
        BsonDocument info = new BsonDocument("info", new BsonDocument("name", new BsonString(name))
                .append("type", new BsonString("collection")).append("options", new BsonDocument()))
                .append("indexes", new org.bson.BsonArray());
        return CaptureHarness.bytes(RawBsonDocument.parse(info.toJson()));
    }

    private static Buffer docs(int... ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) {
            out.writeBytes(CaptureHarness.bytes(RawBsonDocument.parse(new BsonDocument("_id", new BsonInt32(id)).toJson())));
        }
        return Buffer.buffer(out.toByteArray());
    }

    private static OpTime next(OpTime t, int n) {
        return new OpTime(t.seconds(), t.increment() + n);
    }

    private static Buffer entries(OpTime... ts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (OpTime t : ts) {
            BsonDocument e = new BsonDocument("ts", t.toBson()).append("op", new BsonString("n")).append("ns", new BsonString(""))
                    .append("o", new BsonDocument("msg", new BsonString("periodic noop")));
            out.writeBytes(CaptureHarness.bytes(RawBsonDocument.parse(e.toJson())));
        }
        return Buffer.buffer(out.toByteArray());
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static <T> T get(Future<T> f) {
        return CaptureHarness.join(f);
    }

    private static IngestRejection rejected(Future<?> f) {
        return TestServer.rejected(f);
    }
}
