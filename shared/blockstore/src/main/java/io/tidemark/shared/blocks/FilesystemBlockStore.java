package io.tidemark.shared.blocks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import io.tidemark.shared.util.Directories;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Blocks as files {@code root/ab/cd/abcd…} named by the hex id, each one zstd frame. Two
 * levels of 256-way fan-out keep directories small (a million blocks is ~15 files per leaf
 * directory) without a third level of inodes.
 *
 * <p>Writes are durable before they are reported: the data goes to a temporary file in the
 * target directory, is fsynced, is then hard-linked to its final name (link fails if the
 * name exists, which makes "newly written" exact even with another process racing) and the
 * directory is fsynced so the name survives a crash. Readers therefore never see a name
 * whose content is not on disk. Where the file system has no hard links the temporary file
 * is renamed instead.
 *
 * <p>A block that fails its checks on read is set aside, not deleted: its file is renamed to
 * {@code <hex>.corrupt} next to where it was (the record of what was found, and its bytes). From
 * then on the block is not stored as far as {@link #exists}, {@link #stat} and {@link #list} are
 * concerned, so the next put (a forced snapshot, {@code repair}) writes it again, while
 * {@link #read} still names it corrupt rather than missing until it has been.
 *
 * <p>All file access runs on the {@code blockingIo} scheduler, including decompression and
 * hash checks on read, so callers on an event loop are never blocked.
 */
public final class FilesystemBlockStore implements BlockStore {

    private static final String TEMP_SUFFIX = ".tmp";
    static final String CORRUPT_SUFFIX = ".corrupt";

    private final Path root;
    private final Scheduler io;
    private final Set<Path> knownDirs = ConcurrentHashMap.newKeySet();
    /** Writes under way in this process, so a concurrent put of the same id waits for durability. */
    private final ConcurrentHashMap<BlockId, CompletableFuture<Void>> writing = new ConcurrentHashMap<>();
    private volatile boolean hardLinks = true;

    public FilesystemBlockStore(Path root, Scheduler blockingIo) {
        this.root = Objects.requireNonNull(root, "root").toAbsolutePath();
        this.io = Objects.requireNonNull(blockingIo, "blockingIo");
    }

    public Path root() {
        return root;
    }

    /** Where the block with this id lives (whether or not it exists). */
    public Path pathOf(BlockId id) {
        String hex = id.hex();
        return root.resolve(hex.substring(0, 2)).resolve(hex.substring(2, 4)).resolve(hex);
    }

    @Override
    public Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength) {
        return Mono.fromCallable(() -> {
            BlockCodec.checkFrame(id, compressed, uncompressedLength);
            return writeOnce(id, compressed);
        }).subscribeOn(io);
    }

    @Override
    public Mono<Boolean> exists(BlockId id) {
        return stat(id).hasElement();
    }

    @Override
    public Mono<BlockInfo> stat(BlockId id) {
        return Mono.fromCallable(() -> statBlocking(id).orElse(null)).subscribeOn(io);
    }

    @Override
    public Mono<byte[]> read(BlockId id) {
        return Mono.fromCallable(() -> {
            Path path = pathOf(id);
            byte[] compressed;
            Object file;
            try {
                file = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
                compressed = Files.readAllBytes(path);
            } catch (NoSuchFileException e) {
                if (Files.exists(corruptPathOf(id))) {
                    throw new CorruptBlockException(id, "set aside as corrupt (" + corruptPathOf(id).getFileName()
                            + ") and not written again since");
                }
                throw new BlockNotFoundException(id);
            }
            try {
                return BlockCodec.decodeVerified(id, compressed, -1);
            } catch (CorruptBlockException e) {
                setAside(id, path, file);
                throw e;
            }
        }).subscribeOn(io);
    }

    @Override
    public Flux<BlockInfo> list() {
        return Flux.using(
                        this::walkBlockFiles,
                        files -> Flux.fromStream(files.map(this::infoOf).flatMap(Optional::stream)),
                        Stream::close)
                .subscribeOn(io);
    }

    @Override
    public Mono<Void> delete(BlockId id) {
        // No directory fsync: a delete undone by a crash only leaves garbage for the next run.
        return Mono.<Void>fromCallable(() -> {
            Files.deleteIfExists(pathOf(id));
            Files.deleteIfExists(corruptPathOf(id));
            return null;
        }).subscribeOn(io);
    }

    private Path corruptPathOf(BlockId id) {
        Path p = pathOf(id);
        return p.resolveSibling(p.getFileName() + CORRUPT_SUFFIX);
    }

    /**
     * Renames a block file that failed its checks to {@code <hex>.corrupt}, unless it is no longer
     * the file that was read (set aside by another reader and written again meanwhile).
     */
    private void setAside(BlockId id, Path path, Object readFileKey) {
        try {
            Object now = Files.readAttributes(path, BasicFileAttributes.class).fileKey();
            if (readFileKey != null && !readFileKey.equals(now)) {
                return;
            }
            Files.move(path, corruptPathOf(id), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Directories.fsync(path.getParent());
        } catch (NoSuchFileException gone) {
            // another reader set it aside first
        } catch (IOException e) {
            // it stays in place and is found corrupt again by the next read
        }
    }

    @Override
    public Mono<Long> storedBytes() {
        return list().map(BlockInfo::storedSize).reduce(0L, Long::sum);
    }

    private boolean writeOnce(BlockId id, byte[] compressed) throws IOException {
        Path target = pathOf(id);
        while (true) {
            if (Files.exists(target)) {
                awaitOtherWriter(id);
                return false;
            }
            CompletableFuture<Void> mine = new CompletableFuture<>();
            CompletableFuture<Void> other = writing.putIfAbsent(id, mine);
            if (other != null) {
                // The other writer may fail; then the loop writes the block itself.
                awaitQuietly(other);
                continue;
            }
            try {
                boolean created = writeDurably(target, compressed);
                mine.complete(null);
                return created;
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                writing.remove(id, mine);
            }
        }
    }

    private void awaitOtherWriter(BlockId id) {
        CompletableFuture<Void> other = writing.get(id);
        if (other != null) {
            awaitQuietly(other);
        }
    }

    private static void awaitQuietly(CompletableFuture<Void> f) {
        try {
            f.join();
        } catch (RuntimeException ignored) {
            // the caller re-checks the file system
        }
    }

    private boolean writeDurably(Path target, byte[] compressed) throws IOException {
        Path dir = target.getParent();
        ensureDir(dir);
        Path temp = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + TEMP_SUFFIX);
        boolean created;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(compressed);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(false);
            }
            created = publish(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
        if (created) {
            Directories.fsync(dir);
        }
        return created;
    }

    private boolean publish(Path temp, Path target) throws IOException {
        if (hardLinks) {
            try {
                Files.createLink(target, temp);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (UnsupportedOperationException e) {
                hardLinks = false;
            } catch (FileSystemException e) {
                if (Files.exists(target)) {
                    return false;
                }
                hardLinks = false;
            }
        }
        if (Files.exists(target)) {
            return false;
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    private void ensureDir(Path dir) throws IOException {
        if (knownDirs.contains(dir)) {
            return;
        }
        // Each new fan-out directory's entry is fsynced in its parent, or a crash could drop it
        // with its durable blocks.
        Directories.createDurably(dir);
        knownDirs.add(dir);
    }

    private Optional<BlockInfo> statBlocking(BlockId id) throws IOException {
        // The name appears at link time, before its directory is fsynced; a caller that
        // dedups against it must not finish before the writer has made it durable.
        awaitOtherWriter(id);
        try {
            BasicFileAttributes a = Files.readAttributes(pathOf(id), BasicFileAttributes.class);
            return Optional.of(new BlockInfo(id, a.size(), a.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private Stream<Path> walkBlockFiles() {
        if (!Files.isDirectory(root)) {
            return Stream.empty();
        }
        // root/ab/cd/file, read lazily level by level without reading attributes: writers create
        // and remove temporary files (named with a leading '.', which fails the hex check) while a
        // listing runs, and a file that vanishes mid-walk must not fail the listing.
        return children(root).flatMap(FilesystemBlockStore::children).flatMap(FilesystemBlockStore::children)
                .filter(p -> BlockId.isHex(p.getFileName().toString()));
    }

    /** A directory's entries, lazily; none for a directory that vanished or an entry that is a file. */
    private static Stream<Path> children(Path dir) {
        try {
            java.nio.file.DirectoryStream<Path> entries = Files.newDirectoryStream(dir);
            return java.util.stream.StreamSupport.stream(entries.spliterator(), false).onClose(() -> {
                try {
                    entries.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (java.nio.file.NoSuchFileException | java.nio.file.NotDirectoryException e) {
            return Stream.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private Optional<BlockInfo> infoOf(Path file) {
        try {
            return statBlocking(BlockId.fromHex(file.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
