package io.tidemark.shared;

import io.tidemark.shared.config.ConfigException;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void defaultsNeedNoFile() {
        TidemarkConfig c = ConfigLoader.defaults();
        assertEquals("./tidemark-data", c.dataDir());
        assertTrue(c.mongodb().embedded());
        assertEquals(8081, c.ingest().port());
        assertEquals(8080, c.api().port());
        assertTrue(c.api().tls().enabled());
    }

    @Test
    void aFileOverridesDefaultsAndTheEnvironmentOverridesTheFile() throws Exception {
        Path file = dir.resolve("tidemark.yaml");
        Files.writeString(file, "mongodb:\n  metadataUri: mongodb://a,b,c/?replicaSet=rs0\ningest:\n  port: 9443\n");
        TidemarkConfig c = ConfigLoader.load(file, Map.of("TIDEMARK_INGEST_PORT", "9444", "PATH", "/bin"));
        assertEquals("mongodb://a,b,c/?replicaSet=rs0", c.mongodb().metadataUri());
        assertEquals(9444, c.ingest().port());
        assertTrue(!c.mongodb().embedded());
        assertEquals(8080, c.api().port());
    }

    @Test
    void unknownKeysAndVariablesAreRefusedByName() throws Exception {
        Path file = dir.resolve("typo.yaml");
        Files.writeString(file, "ingest:\n  prot: 9443\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        assertTrue(e.getMessage().contains("ingest.prot"), e.getMessage());
        ConfigException env = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, Map.of("TIDEMARK_INGEST_PROT", "1")));
        assertTrue(env.getMessage().contains("TIDEMARK_INGEST_PROT"), env.getMessage());
    }

    @Test
    void wrongTypesAreRefused() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "ingest:\n  port: lots\n");
        assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
        Files.writeString(file, "ingest: 3\n");
        assertThrows(ConfigException.class, () -> ConfigLoader.load(file, Map.of()));
    }

    @Test
    void theIngestBudgetMustHoldTheLargestBody() {
        TidemarkConfig c = ConfigLoader.defaults();
        assertEquals(256L * 1024 * 1024, c.ingest().maxBytesInFlight());
        assertEquals(30, c.ingest().requestIdleSeconds());
        assertEquals(30, c.api().requestIdleSeconds());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null, Map.of(
                "TIDEMARK_INGEST_MAXBODYBYTES", "1000", "TIDEMARK_INGEST_MAXBYTESINFLIGHT", "999")));
        assertTrue(e.getMessage().contains("ingest.maxBytesInFlight"), e.getMessage());
        assertThrows(ConfigException.class, () -> ConfigLoader.load(null, Map.of("TIDEMARK_API_REQUESTIDLESECONDS", "0")));
    }
}
