package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The durable index of a pack that still takes records, {@code <seq>.jnl}: one
 * {@value #ENTRY_BYTES}-byte entry per record (its offset, its header, a CRC32C of both),
 * appended and fsynced by each group commit after the pack's own fsync and before any put of the
 * round is answered. So the journal lists every acknowledged record, and its end is the
 * acknowledged position: a start reads it instead of the whole pack, and only bytes past it
 * (never acknowledged) may be cut off as a torn tail. Entries are self-validating and of a fixed
 * size, so a damaged one costs only itself (the stretch of the pack it described is scanned
 * instead). Deleted once the pack is sealed and its {@code .idx} is durable.
 */
final class PackJournal implements AutoCloseable {

    static final int ENTRY_BYTES = 8 + PackFormat.HEADER_BYTES + 4;

    /** What a journal file held: its intact entries by offset, and how many entries were damaged. */
    record Contents(List<Header> headers, int damaged) {
        /** The acknowledged length of the pack: the end of its last journaled record. */
        long acknowledged() {
            return headers.isEmpty() ? 0 : headers.get(headers.size() - 1).end();
        }
    }

    private final FileChannel ch;
    private long length;

    private PackJournal(FileChannel ch, long length) {
        this.ch = ch;
        this.length = length;
    }

    /** Opens (creating it if needed) the journal to append after its current end. */
    static PackJournal open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        long size = ch.size();
        return new PackJournal(ch, size - size % ENTRY_BYTES);
    }

    /** Writes a journal holding exactly {@code headers} (after recovery), atomically and durably. */
    static void rewrite(Path dir, int seq, List<Header> headers) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(headers.size() * ENTRY_BYTES);
        headers.forEach(h -> put(buf, h));
        PackFormat.writeDurably(dir, PackFormat.journalName(seq), buf.flip());
    }

    /** Appends entries and fsyncs them; only then may the puts of their records be answered. */
    void append(List<Header> headers) throws IOException {
        if (headers.isEmpty()) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocate(headers.size() * ENTRY_BYTES);
        headers.forEach(h -> put(buf, h));
        buf.flip();
        long pos = length;
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
        ch.force(false);
        length = pos;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }

    private static void put(ByteBuffer buf, Header h) {
        int start = buf.position();
        buf.putLong(h.offset());
        PackFormat.putHeader(buf, h);
        buf.putInt(PackFormat.crcOf(buf, start, ENTRY_BYTES - 4));
    }

    /**
     * The intact entries of a journal, ordered by offset, without overlaps and within
     * {@code packLength}; null when there is no journal.
     */
    static Contents read(Path file, long packLength) throws IOException {
        byte[] bytes = PackFormat.readIfExists(file);
        if (bytes == null) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        List<Header> found = new ArrayList<>();
        int damaged = 0;
        for (int at = 0; at + ENTRY_BYTES <= bytes.length; at += ENTRY_BYTES) {
            Header h = null;
            if (PackFormat.crcOf(buf, at, ENTRY_BYTES - 4) == buf.getInt(at + ENTRY_BYTES - 4)) {
                h = PackFormat.parseHeader(buf.duplicate().position(at + 8), buf.getLong(at));
            }
            if (h == null || h.offset() < 0 || h.end() > packLength) {
                damaged++;
            } else {
                found.add(h);
            }
        }
        found.sort(Comparator.comparingLong(Header::offset));
        List<Header> headers = new ArrayList<>(found.size());
        long end = 0;
        for (Header h : found) {
            if (h.offset() >= end) {
                headers.add(h);
                end = h.end();
            } else {
                damaged++;
            }
        }
        // A torn last entry (a crash during the append) was never acknowledged: not damage.
        return new Contents(headers, damaged);
    }
}
