package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import io.tidemark.shared.blocks.PackIndex.Loc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads for a {@link PackBlockStore}: finds a block's record through the index, checks its header
 * against the index and its data against the block's id, and takes a record found damaged out of
 * the index into the {@link Quarantine}. Runs on the store's I/O scheduler.
 */
final class PackReader {

    private static final Logger LOG = LoggerFactory.getLogger(PackReader.class);
    private static final int HEADER_BYTES = PackFormat.HEADER_BYTES;
    private static final int READ_ATTEMPTS = 8;

    private final Map<Integer, Pack> packs;
    private final PackIndex index;
    private final Quarantine quarantine;
    private final PackWriter writer;
    private final ReentrantLock lock;

    PackReader(Map<Integer, Pack> packs, PackIndex index, Quarantine quarantine, PackWriter writer) {
        this.packs = packs;
        this.index = index;
        this.quarantine = quarantine;
        this.writer = writer;
        this.lock = writer.lock();
    }

    /** The block's verified uncompressed bytes; retries when a reclaim moved its record meanwhile. */
    byte[] read(BlockId id) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Loc loc = index.get(id);
            if (loc == null) {
                PackIndex.Corrupt c = index.corrupt(id);
                if (c != null) {
                    throw new CorruptBlockException(id, "quarantined: " + c.why());
                }
                throw new BlockNotFoundException(id);
            }
            Pack p = packs.get(loc.pack());
            try {
                if (p == null) {
                    throw new ClosedChannelException();
                }
                return readRecord(id, p, loc);
            } catch (CorruptBlockException e) {
                quarantine(id, p, loc, e.getMessage());
                throw e;
            } catch (ClosedChannelException e) {
                // A reclaim moved the record and closed the old pack: look it up again.
                if (attempt >= READ_ATTEMPTS) {
                    throw new IOException("block " + id.hex() + ": pack " + loc.pack() + " keeps disappearing", e);
                }
            }
        }
    }

    private byte[] readRecord(BlockId id, Pack p, Loc loc) throws IOException {
        FileChannel ch = writer.channel(p);
        ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES);
        byte[] data = new byte[loc.storedLength()];
        try {
            PackFormat.readFully(ch, head, loc.offset());
            PackFormat.readFully(ch, ByteBuffer.wrap(data), loc.offset() + HEADER_BYTES);
        } catch (java.io.EOFException e) {
            throw new CorruptBlockException(id, p.path + " ends before its record at " + loc.offset());
        }
        Header h = PackFormat.parseHeader(head.flip(), loc.offset());
        if (h == null || !h.block() || !h.id().equals(id) || h.storedLength() != loc.storedLength()
                || h.uncompressedLength() != loc.uncompressedLength()) {
            throw new CorruptBlockException(id, "the record header at " + loc.offset() + " of " + p.path
                    + (h == null ? " is damaged" : " does not match the index (" + (h.block() ? "block " : "deletion of ")
                    + h.id().hex() + ", " + h.storedLength() + " bytes)"));
        }
        return BlockCodec.decodeVerified(id, data, loc.uncompressedLength());
    }

    /**
     * Takes a block whose record turned out damaged out of the index, so lookups stop reporting it
     * and the next put of it writes it again, and logs it in the quarantine.
     */
    private void quarantine(BlockId id, Pack p, Loc loc, String why) {
        lock.lock();
        try {
            if (!index.holdCorrupt(id, loc, why)) {
                return; // moved or deleted meanwhile
            }
        } finally {
            lock.unlock();
        }
        try {
            quarantine.record(Quarantine.CORRUPT_BLOCK, p.path, loc.offset(), loc.recordBytes(), id, why);
        } catch (IOException e) {
            LOG.warn("cannot log the corrupt block {} in the quarantine: {}", id.hex(), e.toString());
        }
    }
}
