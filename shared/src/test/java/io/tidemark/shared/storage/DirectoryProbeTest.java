package io.tidemark.shared.storage;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A watched directory on a real file system: free space against the thresholds, and a probe write. */
class DirectoryProbeTest {

    @TempDir
    Path dir;

    @Test
    void belowEitherThresholdIsLowAndSaysWhy() {
        long free = dir.toFile().getUsableSpace();
        DirectoryProbe byBytes = new DirectoryProbe("blocks", dir, free * 2 + (1L << 30), 0);
        byBytes.probe();
        assertTrue(byBytes.low());
        assertTrue(byBytes.writable(), "low is not full: writes still succeed");
        assertTrue(byBytes.lowChanged(), "the first low reading is a change, announced once");
        assertFalse(byBytes.lowChanged());
        assertTrue(byBytes.lowReason().startsWith("blocks disk low on space: " + dir), byBytes.lowReason());

        DirectoryProbe byPercent = new DirectoryProbe("heads", dir, 0, 99.999);
        byPercent.probe();
        assertTrue(byPercent.low(), "a file system is never 99.999 % free while it holds the test's files");

        DirectoryProbe plenty = new DirectoryProbe("data", dir, 1, 0);
        plenty.probe();
        assertFalse(plenty.low());
        assertFalse(plenty.lowChanged());
        assertTrue(plenty.freeBytes() > 0);
    }

    @Test
    void aDirectoryThatCannotBeWrittenIsReportedAndTheProbeLeavesNothingBehind() throws Exception {
        DirectoryProbe ok = new DirectoryProbe("data", dir, 0, 0);
        ok.probe();
        assertTrue(ok.writable());
        assertFalse(Files.exists(dir.resolve(DirectoryProbe.PROBE_FILE)));

        Path notYet = dir.resolve("heads");
        DirectoryProbe before = new DirectoryProbe("heads", notYet, 0, 0);
        before.probe();
        assertTrue(before.writable(), "a directory not created yet is probed where it will be created");
        assertFalse(Files.exists(notYet), "and is left for its owner to create");

        // Even root cannot create a file in /proc.
        Path notADirectory = Path.of("/proc/tidemark-heads");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(Path.of("/proc")), "needs Linux's /proc");
        DirectoryProbe broken = new DirectoryProbe("heads", notADirectory, 0, 0);
        broken.probe();
        assertFalse(broken.writable());
        assertEquals("heads disk not writable: " + notADirectory, broken.failure().orElseThrow());
    }
}
