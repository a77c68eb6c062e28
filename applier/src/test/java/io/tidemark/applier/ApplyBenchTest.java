package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.tidemark.applier.bench.ApplyBench;

/** The benchmark runs and reports what it promises; its speed is measured by hand, not asserted. */
class ApplyBenchTest {
    @TempDir
    Path dir;

    @Test
    void bothMixesRunAndReport() {
        for (String mix : new String[] {"insert", "update-v2"}) {
            Map<String, Object> r = ApplyBench.run(dir, mix, 3_000);
            assertEquals(3_000, r.get("entries"));
            assertTrue((double) r.get("entriesPerSecond") > 0);
            assertTrue((long) r.get("headBytes") > 0);
            assertTrue(r.containsKey("peakRssBytes") && r.containsKey("seconds"));
            assertEquals(3_000L, r.get("documents"));
        }
    }
}
