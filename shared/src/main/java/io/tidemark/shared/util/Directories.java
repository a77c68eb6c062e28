package io.tidemark.shared.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Directory chores: removing trees (heads that are rebuilt, temporary heads, benchmark work dirs)
 * and making directory entries durable (block stores).
 */
public final class Directories {

    private Directories() {
    }

    /** Makes the entries of {@code dir} (names created, linked or renamed in it) survive a crash. */
    public static void fsync(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Creates {@code dir} and its missing parents one level at a time, fsyncing each new entry in
     * its parent: otherwise a crash could drop a whole new directory with the durable files in it.
     */
    public static void createDurably(Path dir) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path d = dir; d != null && !Files.isDirectory(d); d = d.getParent()) {
            missing.add(0, d);
        }
        for (Path d : missing) {
            Files.createDirectories(d);
            if (d.getParent() != null) {
                fsync(d.getParent());
            }
        }
    }

    /** Deletes {@code dir} and everything under it; nothing happens if it does not exist. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /** The same for scratch space, where a leftover file is not worth failing for. */
    public static void deleteTreeQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (UncheckedIOException e) {
            // scratch space only: the next run or the OS's temp cleaning removes what is left
        }
    }
}
