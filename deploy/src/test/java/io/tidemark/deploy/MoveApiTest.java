package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.bus.Addresses;
import io.tidemark.shared.daemons.DaemonRegistry;
import io.tidemark.shared.daemons.JobBindings;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.vertx.core.json.JsonObject;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Moves through the REST API on one server: every request that cannot move the job is refused
 * with the status and reason an operator needs and changes nothing; and a move whose destination
 * stops heartbeating fails, says why in {@code jobs list} and on {@code tidemark.job.move.failed},
 * and leaves the job with its owner, whose snapshots start again.
 */
class MoveApiTest {

    private static final int LEASE_SECONDS = 5;

    @TempDir
    Path dataDir;

    private record Reply(int status, JsonObject body) {
    }

    @Test
    void refusalsChangeNothingAndAMoveToADaemonThatStopsHeartbeatingFailsWithTheJobKeptByItsOwner() throws Exception {
        TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of(
                "TIDEMARK_DAEMONS_LEASESECONDS", String.valueOf(LEASE_SECONDS), "TIDEMARK_DAEMONS_RENEWSECONDS", "1",
                "TIDEMARK_DAEMONS_HEARTBEATSECONDS", "1")));
        try (MongoShapedSource source = new MongoShapedSource()) {
            source.createCollection("shop.orders");
            source.insertMany("shop.orders", List.of(new Document("_id", 1L)));
            Agent agent = CaptureHarness.startAgent(server, source.uri(), "moving");
            try {
                await("the job bound and applied", Duration.ofSeconds(60), () -> {
                    JsonObject j = CaptureHarness.job(server, "moving");
                    return j.getJsonObject("binding") != null && j.getJsonObject("appliedTs") != null;
                });
                String job = CaptureHarness.job(server, "moving").getString("_id");
                String owner = server.daemonId();
                JsonObject creds = CredentialsFile.read(server.config().dataPath());
                HttpClient http = client(creds);
                String api = creds.getString("apiUrl");
                String token = creds.getString("adminToken");
                DaemonRegistry registry = new DaemonRegistry(server.stores().metadata());
                join(registry.heartbeat("d-elsewhere", new JsonObject().put("headFreeBytes", 1L << 40)));
                JsonObject before = CaptureHarness.job(server, "moving");

                String move = "/api/v1/jobs/" + job + "/move";
                assertRefused(http, api, token, move, "{}", 400, "'to'");
                assertRefused(http, api, token, move, "{\"to\":\"d-elsewhere\",\"when\":\"now\"}", 400, "when");
                assertRefused(http, api, token, move, "not json", 400, "");
                assertRefused(http, api, token, move, "{\"to\":\"d-nowhere\"}", 404, "no daemon 'd-nowhere'");
                assertRefused(http, api, token, move, "{\"to\":\"" + owner + "\"}", 409, "bound to daemon " + owner + " already");
                assertRefused(http, api, token, "/api/v1/jobs/no-such-job/move", "{\"to\":\"d-elsewhere\"}", 404, "");
                assertRefused(http, api, token, "/api/v1/daemons/d-nowhere/drain", "{}", 404, "no daemon");
                assertRefused(http, api, token, "/api/v1/daemons/" + owner + "/drain", "{\"to\":\"" + owner + "\"}", 400, "itself");
                assertRefused(http, api, token, "/api/v1/daemons/" + owner + "/drain", "{\"all\":true}", 400, "all");
                assertEquals(401, post(http, api, "wrong-token", move, "{\"to\":\"d-elsewhere\"}").status());
                JsonObject after = CaptureHarness.job(server, "moving");
                assertNull(after.getJsonObject("move"), "no refusal recorded a move");
                assertEquals(before.getJsonObject("binding"), after.getJsonObject("binding"));
                assertTrue(join(registry.find(owner)).getBoolean("assignment"), "no refusal drained anything");

                // A job with no complete snapshot yet moves once its owner took one: asked for by the move.
                assertEquals(0, join(new io.tidemark.shared.snapshots.SnapshotCatalog(server.stores().metadata()).list(job, false)).size());
                Reply waiting = post(http, api, token, move, "{\"to\":\"d-elsewhere\"}");
                assertEquals(202, waiting.status(), waiting.body().encode());
                assertEquals("snapshotting", waiting.body().getJsonObject("move").getString("state"), waiting.body().encode());
                await("the owner to take the snapshot the move waits for, and the move to go on", Duration.ofSeconds(30), () -> {
                    JsonObject m = CaptureHarness.job(server, "moving").getJsonObject("move", new JsonObject());
                    return m.getString("snapshotId") != null && !"snapshotting".equals(m.getString("state"));
                });
                JsonObject taken = CaptureHarness.job(server, "moving").getJsonObject("move");
                JsonObject first = join(new io.tidemark.shared.snapshots.SnapshotCatalog(server.stores().metadata()).latestComplete(job));
                assertEquals(first.getString("_id"), taken.getString("snapshotId"), taken.encode());
                // Ends failed: no process runs d-elsewhere; the job stays with its owner.
                await("the waiting move to fail as the destination stops heartbeating", Duration.ofSeconds(LEASE_SECONDS * 4L),
                        () -> CaptureHarness.job(server, "moving").getJsonObject("move") == null);
                join(registry.heartbeat("d-elsewhere", new JsonObject().put("headFreeBytes", 1L << 40)));
                join(registry.setSwitches("d-elsewhere", null, false));
                assertRefused(http, api, token, move, "{\"to\":\"d-elsewhere\"}", 409, "backup jobs off");
                join(registry.setSwitches("d-elsewhere", null, true));
                join(registry.heartbeat("d-elsewhere", new JsonObject().put("headFreeBytes", 1L << 40)));

                // Accepted: the destination is registered and alive, but no process runs it.
                List<JsonObject> failed = new CopyOnWriteArrayList<>();
                join(server.vertx().eventBus().<JsonObject>consumer(Addresses.JOB_MOVE_FAILED, m -> failed.add(m.body())).completion());
                Reply accepted = post(http, api, token, move, "{\"to\":\"d-elsewhere\"}");
                assertEquals(202, accepted.status(), accepted.body().encode());
                assertEquals("d-elsewhere", accepted.body().getJsonObject("move").getString("to"));
                assertEquals(owner, accepted.body().getJsonObject("move").getString("from"));
                assertRefused(http, api, token, move, "{\"to\":\"d-elsewhere\"}", 409, "already moving");
                await("the owner to stop snapshots of the moving job", Duration.ofSeconds(30), () -> "rebuilding".equals(
                        CaptureHarness.job(server, "moving").getJsonObject("move", new JsonObject()).getString("state")));
                CliRun.Result refused = CliRun.runIn(dataDir, "snapshot", "create", "--job", job, "--wait");
                assertTrue(refused.exit() != 0, "no snapshot of a moving job: " + refused.out());

                String acceptedId = accepted.body().getJsonObject("move").getString("id");
                await("the move to fail once the destination's heartbeat is older than the lease", Duration.ofSeconds(LEASE_SECONDS * 4L),
                        () -> acceptedId.equals(CaptureHarness.job(server, "moving").getJsonObject("lastMove", new JsonObject()).getString("id")));
                JsonObject ended = CaptureHarness.job(server, "moving");
                assertNull(ended.getJsonObject("move"));
                assertEquals("failed", ended.getJsonObject("lastMove").getString("state"));
                assertTrue(ended.getJsonObject("lastMove").getString("error").contains("d-elsewhere stopped heartbeating"),
                        ended.getJsonObject("lastMove").encode());
                assertEquals(JobBindings.Binding.of(before), JobBindings.Binding.of(ended), "the owner kept the job, at its epoch");
                String listed = CliRun.okIn(dataDir, "jobs", "list");
                assertTrue(listed.contains("last move (to daemon d-elsewhere) failed"), listed);
                await("tidemark.job.move.failed", Duration.ofSeconds(10), () -> !failed.isEmpty());
                assertEquals(job, failed.get(0).getString("job"));
                String scrape = http.send(HttpRequest.newBuilder(URI.create(api.replace("/api/v1", "") + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertTrue(scrape.contains("tidemark_job_moves_total{outcome=\"failed\"} 2.0"), "both failures are counted: " + scrape);

                // Its snapshots start again, on the owner.
                source.insertMany("shop.orders", List.of(new Document("_id", 2L)));
                await("the head to apply the new write", Duration.ofSeconds(30), () -> !CaptureHarness.job(server, "moving")
                        .getJsonObject("appliedTs").equals(first.getJsonObject("ts")));
                JsonObject next = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", job, "--wait", "--json"));
                assertEquals("complete", next.getString("status"), next.encode());
            } finally {
                join(agent.stop());
            }
        } finally {
            server.close();
        }
    }

    private static void assertRefused(HttpClient http, String api, String token, String path, String body, int status,
                                      String says) throws Exception {
        Reply r = post(http, api, token, path, body);
        assertEquals(status, r.status(), path + " " + body + ": " + r.body().encode());
        assertTrue(r.body().getString("error", "").contains(says), path + " " + body + ": " + r.body().encode());
    }

    private static Reply post(HttpClient http, String api, String token, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api.replace("/api/v1", "") + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        JsonObject json;
        try {
            json = r.body().isEmpty() ? new JsonObject() : new JsonObject(r.body());
        } catch (RuntimeException notJson) {
            json = new JsonObject().put("raw", r.body());
        }
        return new Reply(r.statusCode(), json);
    }

    private static HttpClient client(JsonObject creds) throws Exception {
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, new TrustManager[] {new PinnedCertificateTrust(creds.getString("certificateSha256"))}, null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    }
}
