package io.tidemark.deploy;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One document's history end to end: a source captured by the real agent and server, two
 * snapshots with changes before, between and after them, then {@code tidemark history} and
 * {@code tidemark restore --ns --id --at-ts} over HTTPS as a user runs them, and the requests they
 * must refuse.
 */
class HistoryEndToEndTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dataDir;

    @Test
    void historyAndOneDocumentRestoreOverTheCli() {
        try (MongoShapedSource source = new MongoShapedSource();
             TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of(
                     "TIDEMARK_SNAPSHOTS_CHUNKMINBYTES", "2048", "TIDEMARK_SNAPSHOTS_CHUNKAVGBYTES", "8192",
                     "TIDEMARK_SNAPSHOTS_CHUNKMAXBYTES", "32768")))) {
            source.createCollection("shop.users");
            List<Document> users = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                users.add(new Document("_id", i).append("name", "user " + i + " ".repeat(i % 50)).append("n", 0));
            }
            source.insertMany("shop.users", users);
            Agent agent = CaptureHarness.startAgent(server, source.uri(), "hist-shop");
            try {
                caughtUp(server, source);
                String first = snapshot();
                source.update("shop.users", 7, Map.of("n", 100), Set.of());
                OpTime afterFirstUpdate = source.latestTs();
                source.delete("shop.users", 9);
                OpTime afterDelete = source.latestTs();
                caughtUp(server, source);
                String second = snapshot();
                source.update("shop.users", 7, Map.of("n", 200), Set.of());
                caughtUp(server, source);

                JsonObject h = new JsonObject(CliRun.okIn(dataDir, "history", "--job", "hist-shop", "--ns", "shop.users",
                        "--id", "7", "--json"));
                JsonArray versions = h.getJsonArray("versions");
                assertEquals(2, versions.size(), h.encodePrettily());
                assertEquals(first, versions.getJsonObject(0).getJsonArray("snapshots").getJsonObject(0).getString("snapshot"));
                assertEquals(second, versions.getJsonObject(1).getJsonArray("snapshots").getJsonObject(0).getString("snapshot"));
                assertEquals(new JsonObject().put("$numberInt", "0"), versions.getJsonObject(0).getJsonObject("document").getValue("n"));
                assertEquals(new JsonObject().put("$numberInt", "100"), versions.getJsonObject(1).getJsonObject("document").getValue("n"));
                JsonArray changes = h.getJsonObject("oplog").getJsonArray("changes");
                assertEquals(2, changes.size(), changes.encodePrettily());
                assertEquals(afterFirstUpdate, OpTime.fromJson(changes.getJsonObject(0).getJsonObject("ts")));
                assertEquals("update", changes.getJsonObject(1).getString("op"));
                assertTrue(CliRun.okIn(dataDir, "history", "--job", "hist-shop", "--ns", "shop.users", "--id", "9")
                        .contains("delete"));

                String at = CliRun.okIn(dataDir, "restore", "--job", "hist-shop", "--ns", "shop.users", "--id", "7",
                        "--at-ts", afterFirstUpdate.toString());
                assertEquals(new JsonObject().put("$numberInt", "100"), new JsonObject(at.trim()).getValue("n"), at);
                CliRun.Result gone = CliRun.runIn(dataDir, "restore", "--job", "hist-shop", "--ns", "shop.users", "--id", "9",
                        "--at-ts", afterDelete.toString());
                assertEquals(RestoreCommand.ABSENT, gone.exit(), "a document that did not exist then: " + gone.out());

                // Refused, with an error and no output on stdout.
                for (String[] bad : List.of(
                        new String[] {"history", "--job", "hist-shop", "--ns", "shop.users", "--id", "{bad"},
                        new String[] {"history", "--job", "hist-shop", "--ns", "shop.nothere", "--id", "7"},
                        new String[] {"history", "--job", "no-such-job", "--ns", "shop.users", "--id", "7"},
                        new String[] {"restore", "--job", "hist-shop", "--ns", "shop.users", "--id", "7", "--at-ts", "1:1"},
                        new String[] {"restore", "--job", "hist-shop", "--ns", "shop.users", "--id", "7", "--at", "noon"})) {
                    CliRun.Result r = CliRun.runIn(dataDir, bad);
                    assertEquals(1, r.exit(), String.join(" ", bad) + ": " + r.out());
                }
                CliRun.Result unauthenticated = CliRun.runIn(dataDir, "history", "--job", "hist-shop", "--ns", "shop.users",
                        "--id", "7", "--token", "not-a-token");
                assertEquals(1, unauthenticated.exit());
            } finally {
                agent.stop();
            }
        }
    }

    private String snapshot() {
        JsonObject s = new JsonObject(CliRun.okIn(dataDir, "snapshot", "create", "--job", "hist-shop", "--wait", "--json"));
        assertEquals("complete", s.getString("status"), s.encode());
        return s.getString("id", s.getString("snapshotId"));
    }

    private static void caughtUp(TidemarkServer server, MongoShapedSource source) {
        OpTime last = source.latestTs();
        await("the head to apply every write", WAIT, () -> last.equals(OpTime.fromJson(job(server, "hist-shop").getJsonObject("appliedTs")))
                && last.equals(OpTime.fromJson(job(server, "hist-shop").getJsonObject("storedTs"))));
    }
}
