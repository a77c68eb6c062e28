package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads a stretch of a pack record by record, checking both checksums of each. After a record
 * that is not intact it can look for the next one that is: a record starts with its magic and
 * its header carries a CRC32C, so a stretch of damaged bytes costs only the records in it and
 * the records after it are found again (a false match needs a 32-bit magic, a 32-bit header
 * checksum and a 32-bit data checksum to agree by chance).
 *
 * <p>Memory is bounded: one window for the search, one buffer the size of the largest record.
 */
final class PackScan {

    private static final int WINDOW = 1 << 20;

    /** A stretch of bytes that holds no intact record; {@code header} is set when its header was intact. */
    record Damage(long offset, long length, Header header) {
        long end() {
            return offset + length;
        }
    }

    /**
     * What a scan found: the intact records in order; the damaged stretches followed by an intact
     * record; and where the intact part ends ({@code tail}: from there to the end of the scanned
     * stretch nothing is intact, the shape of a write a crash cut short).
     */
    record Result(List<Header> headers, List<Damage> damage, long tail) {
    }

    private final FileChannel ch;
    private final ByteBuffer head = ByteBuffer.allocateDirect(PackFormat.HEADER_BYTES);
    private final ByteBuffer window = ByteBuffer.allocateDirect(WINDOW + PackFormat.HEADER_BYTES);
    private ByteBuffer data = ByteBuffer.allocateDirect(1 << 20);

    PackScan(FileChannel ch) {
        this.ch = ch;
    }

    /**
     * Scans {@code [from, to)}. With {@code resync}, a damaged record is skipped to the next intact
     * one; without, the scan stops at the first record that is not intact.
     */
    Result scan(long from, long to, boolean resync) throws IOException {
        List<Header> headers = new ArrayList<>();
        List<Damage> damage = new ArrayList<>();
        long at = from;
        while (at < to) {
            Header h = intactAt(at, to);
            if (h != null) {
                headers.add(h);
                at = h.end();
                continue;
            }
            long next = resync ? nextIntact(at + 1, to) : -1;
            if (next < 0) {
                return new Result(headers, damage, at);
            }
            damage.add(new Damage(at, next - at, headerAt(at, to)));
            at = next;
        }
        return new Result(headers, damage, at);
    }

    /** The header at {@code at} if it is intact, whatever its data; null otherwise. */
    Header headerAt(long at, long to) throws IOException {
        if (at + PackFormat.HEADER_BYTES > to) {
            return null;
        }
        head.clear();
        PackFormat.readFully(ch, head, at);
        return PackFormat.parseHeader(head.flip(), at);
    }

    /** The record at {@code at} if header and data are intact and it ends by {@code to}. */
    private Header intactAt(long at, long to) throws IOException {
        Header h = headerAt(at, to);
        return h != null && h.end() <= to && dataIntact(h) ? h : null;
    }

    private boolean dataIntact(Header h) throws IOException {
        if (data.capacity() < h.storedLength()) {
            data = ByteBuffer.allocateDirect(h.storedLength());
        }
        data.clear().limit(h.storedLength());
        PackFormat.readFully(ch, data, h.offset() + PackFormat.HEADER_BYTES);
        CRC32C crc = new CRC32C();
        crc.update(data.flip());
        return (int) crc.getValue() == h.dataCrc();
    }

    /** The offset of the first intact record at or after {@code from}, or -1. */
    private long nextIntact(long from, long to) throws IOException {
        for (long base = from; base + PackFormat.HEADER_BYTES <= to; base += WINDOW) {
            window.clear().limit((int) Math.min(window.capacity(), to - base));
            PackFormat.readFully(ch, window, base);
            window.flip();
            int last = Math.min(WINDOW, window.limit() - PackFormat.HEADER_BYTES + 1);
            for (int i = 0; i < last; i++) {
                int magic = window.getInt(i);
                if (magic != PackFormat.BLOCK_MAGIC && magic != PackFormat.DELETE_MAGIC) {
                    continue;
                }
                Header h = PackFormat.parseHeader(window.duplicate().position(i), base + i);
                if (h != null && h.end() <= to && dataIntact(h)) {
                    return base + i;
                }
            }
        }
        return -1;
    }
}
