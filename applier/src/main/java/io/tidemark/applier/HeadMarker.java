package io.tidemark.applier;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Records next to a head which initial sync it was built from, written only once the build is
 * complete: a head directory without it (a crash mid-build) or with another generation (a resync
 * since) is rebuilt rather than trusted.
 */
final class HeadMarker {

    private static final String FILE = "tidemark-head.json";

    private HeadMarker() {
    }

    /** The sync generation the head in {@code dir} was completely built from, or -1. */
    static long builtGeneration(Path dir) {
        Path file = dir.resolve(FILE);
        try {
            return Files.exists(file) ? new JsonObject(Files.readString(file)).getLong("generation", -1L) : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static void markBuilt(Path dir, String job, long generation) {
        Path tmp = dir.resolve(FILE + ".tmp");
        try {
            Files.writeString(tmp, new JsonObject().put("job", job).put("generation", generation)
                    .put("builtAt", System.currentTimeMillis()).encode());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot mark the head in " + dir + " as built", e);
        }
    }

    static void deleteHead(Path dir) {
        io.tidemark.shared.util.Directories.deleteTree(dir);
    }
}
