package io.tidemark.shared.blocks;

import io.tidemark.shared.util.Directories;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The record of everything the pack store found damaged or cut off, {@code <root>/quarantine/}:
 * {@code quarantine.log}, one tab-separated line per finding (when, what, which file, where, how
 * many bytes, which block, why), fsynced before the store acts on it; and copies of bytes the
 * store removes (a truncated tail, the records of a reclaimed pack that were corrupt) and of
 * index files it could not use. Nothing the store deletes on its own goes without a line here.
 *
 * <p>{@code corrupt-block} lines are also state: on every start, a block still indexed at the
 * place such a line names is held as corrupt, so reads name it and puts write it again.
 */
final class Quarantine {

    static final String CORRUPT_BLOCK = "corrupt-block";
    static final String DAMAGED_BYTES = "damaged-bytes";
    static final String TORN_TAIL = "torn-tail";
    static final String DAMAGED_INDEX = "damaged-index";
    static final String REMOVED_CORRUPT = "removed-corrupt-record";
    /** Bytes copied out of a pack per finding at most; the log line says when it was more. */
    static final long MAX_COPY = 64L << 20;
    private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);

    /** A {@code corrupt-block} line: the block and where its damaged record is. */
    record CorruptRecord(BlockId block, int pack, long offset) {
    }

    private final Path dir;
    private final Path log;
    /** Findings already logged (kind, file, offset), so a finding seen again on a later start is logged once. */
    private final Set<String> logged = new HashSet<>();
    private final List<CorruptRecord> corrupt = new ArrayList<>();

    Quarantine(Path root) {
        this.dir = root.resolve("quarantine");
        this.log = dir.resolve("quarantine.log");
    }

    Path dir() {
        return dir;
    }

    /** Reads the log written so far. Called once, when the store opens. */
    void load() throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return;
        }
        for (String line : lines) {
            String[] f = line.split("\t", 7);
            if (f.length < 7) {
                continue; // a line a crash cut short
            }
            logged.add(key(f[1], f[2], f[3]));
            int pack = PackFormat.seqOf(f[2], PackFormat.PACK_SUFFIX);
            if (f[1].equals(CORRUPT_BLOCK) && pack > 0 && f[5].length() == 2 * BlockId.LENGTH) {
                try {
                    corrupt.add(new CorruptRecord(BlockId.fromHex(f[5]), pack, Long.parseLong(f[3])));
                } catch (IllegalArgumentException e) {
                    // not a line this store wrote
                }
            }
        }
    }

    /** The {@code corrupt-block} findings of earlier runs. */
    List<CorruptRecord> corruptRecords() {
        return corrupt;
    }

    /**
     * Logs a finding durably (and as a WARN) unless the same finding is logged already.
     *
     * @param block the damaged block, or null when no intact header names one
     */
    synchronized void record(String kind, Path file, long offset, long length, BlockId block, String why)
            throws IOException {
        String name = file.getFileName().toString();
        boolean rescanned = kind.equals(CORRUPT_BLOCK) || kind.equals(DAMAGED_BYTES);
        if (!logged.add(key(kind, name, Long.toString(offset))) && rescanned) {
            return; // found again by a later start: logged already
        }
        LOG.warn("block store quarantine: {} in {} at {} ({} bytes{}): {}", kind, file, offset, length,
                block == null ? "" : ", block " + block.hex(), why);
        String line = String.join("\t", Instant.now().toString(), kind, name, Long.toString(offset),
                Long.toString(length), block == null ? "-" : block.hex(), why.replace('\t', ' ').replace('\n', ' '))
                + "\n";
        Directories.createDurably(dir);
        try (FileChannel ch = FileChannel.open(log, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(false);
        }
    }

    /** Copies {@code [offset, offset + length)} of a pack (at most {@link #MAX_COPY}) into the quarantine directory. */
    synchronized Path copy(FileChannel from, Path pack, long offset, long length) throws IOException {
        Directories.createDurably(dir);
        Path to = dir.resolve(pack.getFileName() + "@" + offset + ".bytes");
        try (FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            long n = Math.min(length, MAX_COPY);
            long done = 0;
            while (done < n) {
                long k = from.transferTo(offset + done, n - done, out);
                if (k <= 0) {
                    break;
                }
                done += k;
            }
            out.force(false);
        }
        Directories.fsync(dir);
        return to;
    }

    /** Moves (or copies) a file the store cannot use as it is (a damaged index) into the quarantine directory. */
    synchronized Path keep(Path file, boolean move) throws IOException {
        Directories.createDurably(dir);
        Path to = dir.resolve(file.getFileName() + "." + System.currentTimeMillis());
        if (move) {
            Files.move(file, to, StandardCopyOption.ATOMIC_MOVE);
        } else {
            Files.copy(file, to);
            try (FileChannel ch = FileChannel.open(to, StandardOpenOption.WRITE)) {
                ch.force(false);
            }
        }
        Directories.fsync(dir);
        Directories.fsync(file.getParent());
        return to;
    }

    private static String key(String kind, String file, String offset) {
        return kind + " " + file + " " + offset;
    }
}
