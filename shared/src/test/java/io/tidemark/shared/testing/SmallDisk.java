package io.tidemark.shared.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A small tmpfs mounted for one test, so that the test can fill it and see what a full disk does.
 * Mounting needs root (or CAP_SYS_ADMIN); where the mount fails the test is skipped, not failed.
 */
public final class SmallDisk implements AutoCloseable {

    private final Path mountPoint;
    private final Path filler;

    private SmallDisk(Path mountPoint) {
        this.mountPoint = mountPoint;
        this.filler = mountPoint.resolve("filler");
    }

    /** Mounts a tmpfs of {@code megabytes} on {@code mountPoint} (created), or skips the test. */
    public static SmallDisk mount(Path mountPoint, int megabytes) {
        try {
            Files.createDirectories(mountPoint);
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m,mode=0700", "tmpfs",
                    mountPoint.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            boolean mounted = p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0;
            Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (needs root): " + out.strip());
        } catch (IOException e) {
            Assumptions.abort("cannot mount a tmpfs here: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Assumptions.abort("interrupted");
        }
        return new SmallDisk(mountPoint);
    }

    public Path path() {
        return mountPoint;
    }

    /** Writes a filler file until the file system has no space left; returns its size. */
    public long fill() throws IOException {
        byte[] chunk = new byte[64 * 1024];
        long written = 0;
        try (OutputStream out = Files.newOutputStream(filler, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND)) {
            while (true) {
                out.write(chunk);
                written += chunk.length;
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw full;
            }
        }
        // The last partial chunk may have left a few bytes; take those too.
        try (OutputStream out = Files.newOutputStream(filler, java.nio.file.StandardOpenOption.APPEND)) {
            for (int i = 0; i < 64; i++) {
                out.write(new byte[1024]);
                written += 1024;
            }
        } catch (IOException ignored) {
            // full to the byte
        }
        return written;
    }

    /** Writes a filler file that leaves about {@code freeBytes} usable; returns its size. */
    public long fillLeaving(long freeBytes) throws IOException {
        long size = Math.max(0, Files.getFileStore(mountPoint).getUsableSpace() - freeBytes);
        byte[] chunk = new byte[64 * 1024];
        long written = 0;
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (written < size) {
                int n = (int) Math.min(chunk.length, size - written);
                out.write(chunk, 0, n);
                written += n;
            }
        }
        return written;
    }

    /** Gives the filler's space back. */
    public void release() throws IOException {
        Files.deleteIfExists(filler);
    }

    @Override
    public void close() {
        try {
            Process p = new ProcessBuilder("umount", "-l", mountPoint.toString()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(20, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
