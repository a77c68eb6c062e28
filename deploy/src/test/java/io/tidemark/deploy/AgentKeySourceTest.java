package io.tidemark.deploy;

import io.tidemark.agent.AgentSettings;
import io.tidemark.agent.ApiKeyFile;
import io.tidemark.shared.config.ConfigLoader;
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
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The agent's key comes from an owner-only file or the environment, and is never printed. */
class AgentKeySourceTest {

    private static final String KEY = "tmg_0123456789ab_secretsecretsecretsecretsecretsecretsecret12";

    @TempDir
    Path dir;

    @Test
    void aKeyFileReadableByOthersIsRefusedAsSshWould() throws Exception {
        Path file = keyFile("rw-r--r--");
        CliException e = assertThrows(CliException.class, () -> AgentCommand.givenKey(null, file, Map.of()));
        assertTrue(e.getMessage().contains("chmod 600") && e.getMessage().contains("rw-r--r--"), e.getMessage());
        assertFalse(e.getMessage().contains(KEY));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw--w----"));
        assertThrows(CliException.class, () -> AgentCommand.givenKey(null, file, Map.of()), "group-writable");

        // The command refuses it before it connects anywhere, with one line on standard error.
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertEquals(1, TidemarkCli.run("agent", "--source", "mongodb://127.0.0.1:1", "--name", "n", "--server",
                    "https://127.0.0.1:1", "--api-key-file", file.toString(), "--data-dir", dir.toString()));
        } finally {
            System.setErr(err);
        }
        String text = captured.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("chmod 600"), text);
        assertFalse(text.contains(KEY), text);
    }

    @Test
    void anOwnerOnlyKeyFileIsRead() throws Exception {
        assertEquals(KEY, AgentCommand.givenKey(null, keyFile("rw-------"), Map.of()));
        assertEquals(KEY, AgentCommand.givenKey(null, keyFile("r--------"), Map.of()));
        assertThrows(CliException.class, () -> AgentCommand.givenKey("other", keyFile("rw-------"), Map.of()),
                "a key file and a key on the command line are one too many");
        assertThrows(CliException.class, () -> AgentCommand.givenKey(null, dir.resolve("missing"), Map.of()));
    }

    @Test
    void theEnvironmentVariableIsUsedWhenNoKeyIsGivenOtherwise() {
        assertEquals(KEY, AgentCommand.givenKey(null, null, Map.of(ApiKeyFile.ENV, KEY + "\n")));
        assertEquals("flag", AgentCommand.givenKey("flag", null, Map.of(ApiKeyFile.ENV, KEY)));
        assertNull(AgentCommand.givenKey(null, null, Map.of()), "then the local server's credentials file is used");
        // The variable shares the configuration's prefix but is no configuration key.
        ConfigLoader.load(null, Map.of(ApiKeyFile.ENV, KEY));
    }

    @Test
    void agentSettingsNeverPrintTheKey() {
        AgentSettings settings = new AgentSettings("mongodb://backup:pw@rs1/?replicaSet=rs0", "d", "https://h:8081", KEY,
                null, null, null);
        assertFalse(settings.toString().contains(KEY), settings.toString());
        assertFalse(settings.toString().contains(":pw@"), settings.toString());
    }

    private Path keyFile(String mode) throws Exception {
        Path file = Files.createTempFile(dir, "agent", ".key");
        Files.writeString(file, KEY + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }
}
