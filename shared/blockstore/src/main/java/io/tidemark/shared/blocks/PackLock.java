package io.tidemark.shared.blocks;

import io.tidemark.shared.util.Directories;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** One process (and one store) at a time on a pack store's directory: {@code packs/lock}. */
final class PackLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private PackLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code packsDir} durably if needed and takes its lock; refuses a directory that
     * holds a filesystem store (reading it as packs would hide every block) or is locked.
     */
    static PackLock acquire(Path root, Path packsDir) throws IOException {
        refuseFileStore(root);
        // Each new directory's entry is fsynced in its parent, or a crash could drop every pack.
        Directories.createDurably(packsDir);
        FileChannel ch = FileChannel.open(packsDir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            throw new IllegalStateException("the block store " + root + " is open in another store or process");
        }
        return new PackLock(ch, lock);
    }

    private static void refuseFileStore(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
            for (Path e : entries) {
                String name = e.getFileName().toString();
                if (name.matches("[0-9a-f]{2}") && Files.isDirectory(e)) {
                    throw new IllegalStateException(root + " holds a filesystem block store (one file per block); set "
                            + "blockstore.type to filesystem to keep using it, or blockstore.path to another directory");
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
