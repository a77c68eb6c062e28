package io.tidemark.deploy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A server restarted with another block store than the one its snapshots were written to does
 * not start: it says which one to set, and changes nothing (no packed store is created).
 */
class BlockStoreOfRecordTest {

    @TempDir
    Path dataDir;

    @Test
    void aServerWithAnotherBlockStoreThanTheRecordedOneIsRefusedAndTheRecordedOneStarts() {
        Map<String, String> mongodb = Map.of("TIDEMARK_BLOCKSTORE_TYPE", "mongodb");
        try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, mongodb))) {
            JsonObject record = CaptureHarness.join(server.stores().metadata().findOne(BlockStoreOfRecord.COLLECTION,
                    new JsonObject().put("_id", "blockstore"), null));
            assertTrue("mongodb".equals(record.getString("type")), record.encode());
        }
        // The default (auto) picks the packed store on the embedded store.
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> TidemarkServer.start(CaptureHarness.config(dataDir, Map.of())).close());
        assertTrue(refused.getMessage().contains("keep their blocks in the mongodb store")
                && refused.getMessage().contains("would use the packed store (blockstore.type: auto picks")
                && refused.getMessage().contains("TIDEMARK_BLOCKSTORE_TYPE=mongodb"), refused.getMessage());
        assertFalse(Files.exists(dataDir.resolve("blocks")), "the refused store was not created");
        try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, mongodb))) {
            assertTrue(server.stores() != null);
        }
    }
}
