package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admin commands on the server's machine need no flags but the data dir; --json is for scripts. */
class AdminCliTest {

    @TempDir
    static Path dataDir;

    static TidemarkServer server;

    @BeforeAll
    static void start() {
        server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()));
        CaptureHarness.join(server.stores().jobs().register("cli-shop"));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void credentialsAreWrittenOnceWithMode0600() throws Exception {
        Path file = dataDir.resolve("credentials.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        JsonObject creds = new JsonObject(Files.readString(file));
        assertTrue(creds.getString("adminToken").startsWith("tma_"));
        assertTrue(creds.getString("agentKey").startsWith("tmg_"));
        assertEquals(64, creds.getString("certificateSha256").length());
        String storedKeys = CaptureHarness.join(server.stores().metadata().find("apiKeys", new JsonObject())).toString();
        // The secret is base64url and may itself hold '_': split off the prefix and id only, as
        // ApiKeys does (a plain split("_") once gave an empty fragment, which every string contains).
        String secret = creds.getString("adminToken").split("_", 3)[2];
        assertEquals(43, secret.length(), "a 256-bit secret");
        assertFalse(storedKeys.contains(secret), "only hashes are stored");
    }

    @Test
    void jobsListPrintsJsonWithPositionsAsTAndI() {
        String out = CliRun.ok("jobs", "list", "--json", "--data-dir", dataDir.toString());
        JsonArray jobs = new JsonArray(out);
        JsonObject job = jobs.getJsonObject(0);
        assertEquals("cli-shop", job.getString("name"));
        assertEquals("INITIAL_SYNC", job.getString("state"));
        assertTrue(job.containsKey("storedTs") && job.containsKey("appliedTs"));
        String table = CliRun.ok("jobs", "list", "--data-dir", dataDir.toString());
        assertTrue(table.contains("cli-shop") && table.contains("INITIAL_SYNC"), table);
    }

    @Test
    void keysCanBeCreatedListedAndRevoked() {
        JsonObject created = new JsonObject(CliRun.ok("keys", "create", "--kind", "agent", "--name", "cli-test", "--json",
                "--data-dir", dataDir.toString()));
        assertTrue(created.getString("token").startsWith("tmg_"));
        String id = created.getString("id");
        JsonArray keys = new JsonArray(CliRun.ok("keys", "list", "--json", "--data-dir", dataDir.toString()));
        assertTrue(keys.stream().map(k -> (JsonObject) k).anyMatch(k -> id.equals(k.getString("id")) && !k.containsKey("hash")));
        assertTrue(CliRun.ok("keys", "revoke", id, "--data-dir", dataDir.toString()).contains("revoked"));
        JsonObject revoked = new JsonArray(CliRun.ok("keys", "list", "--json", "--data-dir", dataDir.toString())).stream()
                .map(k -> (JsonObject) k).filter(k -> id.equals(k.getString("id"))).findFirst().orElseThrow();
        assertTrue(revoked.containsKey("revokedAt"));
    }

    @Test
    void errorsAreOneLineAndExitNonZero() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertEquals(1, TidemarkCli.run("jobs", "resync", "--job", "nope", "--data-dir", dataDir.toString()));
            assertEquals(1, TidemarkCli.run("keys", "create", "--kind", "wizard", "--data-dir", dataDir.toString()));
            assertEquals(1, TidemarkCli.run("jobs", "list", "--data-dir", dataDir.resolve("elsewhere").toString()));
        } finally {
            System.setErr(err);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("no job with id or name 'nope'"), text);
        assertTrue(text.contains("'kind' must be 'agent' or 'admin'"), text);
        assertTrue(text.contains("credentials.json"), text);
    }
}
