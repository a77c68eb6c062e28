package io.tidemark.shared.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * One watched directory: the free space of its file system against the thresholds, and whether
 * a small durable write (a file written, fsynced and removed) still succeeds there. Blocking; its
 * probe runs on a worker, its results are read from any thread.
 */
final class DirectoryProbe {

    static final String PROBE_FILE = ".tidemark-storage-probe";

    private final String area;
    private final Path path;
    private final long minFreeBytes;
    private final double minFreePercent;
    private volatile long freeBytes = -1;
    private volatile long totalBytes = -1;
    private volatile String failure;
    private volatile boolean low;
    private boolean lowChanged;

    DirectoryProbe(String area, Path path, long minFreeBytes, double minFreePercent) {
        this.area = area;
        this.path = path;
        this.minFreeBytes = minFreeBytes;
        this.minFreePercent = minFreePercent;
    }

    void probe() {
        // A directory not created yet (no head, no block so far) is measured and probed at its
        // nearest existing parent, which is where it will be created: never created here, so its
        // owner creates it with the permissions it wants.
        Path at = path;
        while (at != null && !Files.isDirectory(at)) {
            at = at.getParent();
        }
        if (at == null) {
            failure = area + " disk not writable: " + path;
            return;
        }
        try {
            FileStore store = Files.getFileStore(at);
            freeBytes = store.getUsableSpace();
            totalBytes = store.getTotalSpace();
        } catch (IOException e) {
            failure = area + " disk not writable: " + path;
            return;
        }
        boolean wasLow = low;
        low = freeBytes < thresholdBytes();
        lowChanged = wasLow != low;
        Path file = at.resolve(PROBE_FILE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(new byte[]{1}));
            ch.force(true);
            failure = null;
        } catch (IOException e) {
            failure = StorageFailure.classify(e).orElse(null) == StorageFailure.Kind.DISK_FULL
                    ? area + " disk full: " + path : area + " disk not writable: " + path;
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // the next probe tries again
            }
        }
    }

    /** The larger of the two thresholds, in bytes (0 while the file system's size is unknown). */
    long thresholdBytes() {
        long byPercent = totalBytes <= 0 ? 0 : (long) (totalBytes * minFreePercent / 100);
        return Math.max(minFreeBytes, byPercent);
    }

    /** Whether the last probe's low state differs from the one before; read once per probe. */
    boolean lowChanged() {
        boolean changed = lowChanged;
        lowChanged = false;
        return changed;
    }

    String area() {
        return area;
    }

    Path path() {
        return path;
    }

    long freeBytes() {
        return freeBytes;
    }

    boolean low() {
        return low;
    }

    boolean writable() {
        return failure == null;
    }

    Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    String lowReason() {
        return area + " disk low on space: " + path + " has " + freeBytes + " bytes free, under the threshold of "
                + thresholdBytes() + " (storage.minFreeBytes / storage.minFreePercent)";
    }
}
