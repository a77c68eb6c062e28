package io.tidemark.snapshotter.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keeps the benchmark runnable; the numbers themselves are measured outside the suite. */
class BlockPipelineBenchTest {

    @Test
    void reportsBothPassesAndFindsEverythingOnTheSecond(@TempDir Path dir) {
        Map<String, Object> r = BlockPipelineBench.run(dir, 8 << 20);
        assertEquals(0, r.get("secondPassBlocksAdded"));
        assertTrue((Long) r.get("logicalBytes") > 7 << 20);
        assertTrue((Long) r.get("storedBytes") < (Long) r.get("logicalBytes"));
        assertTrue((Double) r.get("firstPassMBps") > 0 && (Double) r.get("secondPassMBps") > 0);
        assertTrue((Long) r.get("peakRssBytes") > 0);
    }

    @Test
    void syntheticDataIsValidBsonWithDistinctIds() {
        byte[] data = new SyntheticDocuments(1).bytes(2 << 20);
        java.util.Set<Object> ids = new java.util.HashSet<>();
        int pos = 0;
        while (pos < data.length) {
            int len = java.nio.ByteBuffer.wrap(data, pos, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            org.bson.RawBsonDocument doc = new org.bson.RawBsonDocument(data, pos, len);
            doc.toJson();
            assertTrue(ids.add(doc.getObjectId("_id").getValue()), "duplicate _id at " + pos);
            pos += len;
        }
        assertEquals(data.length, pos);
        assertTrue(ids.size() > 1000);
    }

    @Test
    void sizesParse() {
        assertEquals(3L << 30, BlockPipelineBench.parseSize("3g"));
        assertEquals(512L << 20, BlockPipelineBench.parseSize("512M"));
        assertEquals(1234L, BlockPipelineBench.parseSize("1234"));
    }
}
