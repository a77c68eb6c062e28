package io.tidemark.shared.blocks;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The bytes of {@link PackBlockStore}'s files. A pack is a sequence of records, each a
 * {@value #HEADER_BYTES}-byte header followed by its stored bytes (a zstd frame; none for a
 * deletion):
 *
 * <pre>
 *  0  int      magic: "TMPB" block, "TMPD" deletion
 *  4  byte[32] block id
 * 36  int      stored length
 * 40  int      uncompressed length
 * 44  long     written at, epoch millis
 * 52  int      deletion: the pack whose record of the block it cancels; block: 0
 * 56  int      CRC32C of the stored bytes
 * 60  int      CRC32C of bytes 0–59
 * </pre>
 *
 * The header checksum tells a torn or overwritten header from a real one, and the data
 * checksum a record whose header reached the disk before its data; both matter only when
 * part of a pack is scanned ({@link PackScan}), where the magic and both checksums also let
 * a scan find the next intact record after a damaged one. Reads verify the SHA-256 instead.
 *
 * <p>An index file is a {@value #INDEX_PREAMBLE}-byte preamble (magic "TMPX", version, pack
 * sequence number, pack length, record count), the pack's records and a CRC32C of everything
 * before it. Version 2 lists each record as its offset and header, so a pack with a stretch
 * of damaged bytes between records can be indexed; version 1 (still read) lists the headers
 * back to back, their offsets following from the lengths. All integers are big-endian.
 */
final class PackFormat {

    static final int HEADER_BYTES = 64;
    static final int BLOCK_MAGIC = 0x544d5042;
    static final int DELETE_MAGIC = 0x544d5044;
    static final int INDEX_MAGIC = 0x544d5058;
    static final int INDEX_VERSION = 2;
    static final int INDEX_PREAMBLE = 28;
    /** A version-2 index entry: the record's offset, then its header. */
    static final int INDEX_ENTRY_BYTES = 8 + HEADER_BYTES;
    static final String PACK_SUFFIX = ".pack";
    static final String INDEX_SUFFIX = ".idx";
    static final String JOURNAL_SUFFIX = ".jnl";
    static final String TEMP_SUFFIX = ".tmp";
    private static final int EMPTY_CRC = crc(new byte[0]);

    private PackFormat() {
    }

    /** A record header and where it is. */
    record Header(boolean block, BlockId id, long offset, int storedLength, int uncompressedLength, long writtenAt,
                  int cancels, int dataCrc) {
        long end() {
            return offset + HEADER_BYTES + storedLength;
        }
    }

    static String packName(int seq) {
        return String.format("%016x", seq) + PACK_SUFFIX;
    }

    static String indexName(int seq) {
        return String.format("%016x", seq) + INDEX_SUFFIX;
    }

    static String journalName(int seq) {
        return String.format("%016x", seq) + JOURNAL_SUFFIX;
    }

    /** The sequence number in a pack or index file name, or -1 for any other name. */
    static int seqOf(String fileName, String suffix) {
        if (fileName.length() != 16 + suffix.length() || !fileName.endsWith(suffix)) {
            return -1;
        }
        try {
            long seq = Long.parseUnsignedLong(fileName.substring(0, 16), 16);
            return seq > 0 && seq <= Integer.MAX_VALUE ? (int) seq : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static int crc(byte[] data) {
        CRC32C crc = new CRC32C();
        crc.update(data);
        return (int) crc.getValue();
    }

    static void putHeader(ByteBuffer buf, Header h) {
        int start = buf.position();
        buf.putInt(h.block() ? BLOCK_MAGIC : DELETE_MAGIC)
                .put(h.id().bytes())
                .putInt(h.storedLength())
                .putInt(h.uncompressedLength())
                .putLong(h.writtenAt())
                .putInt(h.cancels())
                .putInt(h.dataCrc());
        buf.putInt(crcOf(buf, start, HEADER_BYTES - 4));
    }

    /**
     * The header at {@code buf}'s position (which moves past it), or null when the bytes are
     * not a header: wrong magic, checksum or lengths.
     */
    static Header parseHeader(ByteBuffer buf, long offset) {
        int start = buf.position();
        int expected = crcOf(buf, start, HEADER_BYTES - 4);
        int magic = buf.getInt();
        byte[] id = new byte[BlockId.LENGTH];
        buf.get(id);
        int stored = buf.getInt();
        int uncompressed = buf.getInt();
        long writtenAt = buf.getLong();
        int cancels = buf.getInt();
        int dataCrc = buf.getInt();
        int crc = buf.getInt();
        boolean block = magic == BLOCK_MAGIC;
        if (crc != expected || !block && magic != DELETE_MAGIC || stored < 0 || uncompressed < 0
                || !block && stored != 0) {
            return null;
        }
        return new Header(block, BlockId.fromBytes(id), offset, stored, uncompressed, writtenAt, cancels, dataCrc);
    }

    static int crcOf(ByteBuffer buf, int from, int length) {
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().limit(from + length).position(from));
        return (int) crc.getValue();
    }

    static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long at = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, at);
            if (n < 0) {
                throw new EOFException("pack ends at " + at);
            }
            at += n;
        }
    }

    /**
     * Writes a pack's index durably (temporary file, fsync, rename, directory fsync), in the
     * current version: each header after its offset, so a pack with a quarantined stretch of
     * unreadable bytes between records can be indexed too.
     */
    static void writeIndex(Path dir, int seq, long packLength, List<Header> headers) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(INDEX_PREAMBLE + headers.size() * INDEX_ENTRY_BYTES + 4);
        buf.putInt(INDEX_MAGIC).putInt(INDEX_VERSION).putLong(seq).putLong(packLength).putInt(headers.size());
        for (Header h : headers) {
            buf.putLong(h.offset());
            putHeader(buf, h);
        }
        buf.putInt(crcOf(buf, 0, buf.position()));
        writeDurably(dir, indexName(seq), buf.flip());
    }

    /** Replaces {@code dir/name} with {@code content} atomically and durably. */
    static void writeDurably(Path dir, String name, ByteBuffer content) throws IOException {
        Path target = dir.resolve(name);
        Path temp = dir.resolve(name + TEMP_SUFFIX);
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (content.hasRemaining()) {
                ch.write(content);
            }
            ch.force(false);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        io.tidemark.shared.util.Directories.fsync(dir);
    }

    /** A small file's bytes, or null when there is no such file. */
    static byte[] readIfExists(Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * The headers an index file lists, or null when it is missing, damaged or does not describe
     * a pack of exactly {@code packLength} bytes (then the pack is scanned instead). Reads both
     * versions: 1 (headers back to back, offsets following from the lengths, written before
     * quarantine existed) and 2 (each header after its offset).
     */
    static List<Header> readIndex(Path file, int seq, long packLength) throws IOException {
        byte[] bytes = PackFormat.readIfExists(file);
        if (bytes == null) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        if (bytes.length < INDEX_PREAMBLE + 4 || crcOf(buf, 0, bytes.length - 4) != buf.getInt(bytes.length - 4)) {
            return null;
        }
        if (buf.getInt() != INDEX_MAGIC) {
            return null;
        }
        int version = buf.getInt();
        int entryBytes = version == 1 ? HEADER_BYTES : version == INDEX_VERSION ? INDEX_ENTRY_BYTES : -1;
        if (entryBytes < 0 || buf.getLong() != seq || buf.getLong() != packLength) {
            return null;
        }
        int count = buf.getInt();
        if (count < 0 || (long) count * entryBytes != bytes.length - INDEX_PREAMBLE - 4) {
            return null;
        }
        List<Header> headers = new ArrayList<>(count);
        long at = 0;
        for (int i = 0; i < count; i++) {
            long offset = version == 1 ? at : buf.getLong();
            Header h = offset < at ? null : parseHeader(buf, offset);
            if (h == null || h.end() > packLength) {
                return null;
            }
            headers.add(h);
            at = h.end();
        }
        return version > 1 || at == packLength ? headers : null;
    }

    /** The header of a record that deletes {@code id} from pack {@code cancelsPack} (or an older one). */
    static Header deletion(BlockId id, int cancelsPack, long at) {
        return new Header(false, id, -1, 0, 0, at, cancelsPack, EMPTY_CRC);
    }

    static Header block(BlockId id, byte[] compressed, int uncompressedLength, long writtenAt) {
        return new Header(true, id, -1, compressed.length, uncompressedLength, writtenAt, 0, PackFormat.crc(compressed));
    }
}
