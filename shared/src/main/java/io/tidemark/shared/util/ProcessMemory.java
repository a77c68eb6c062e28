package io.tidemark.shared.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident memory as the kernel counts it, for benchmarks' peak-RSS figures. */
public final class ProcessMemory {

    private ProcessMemory() {
    }

    /** Peak resident set size (VmHWM) in bytes, or -1 where /proc is not available. */
    public static long peakRssBytes() {
        return statusField("VmHWM:");
    }

    private static long statusField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
