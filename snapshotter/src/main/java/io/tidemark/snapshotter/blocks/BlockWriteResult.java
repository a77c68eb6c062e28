package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockRef;
import java.util.List;

/**
 * The blocks of one written stream in order, with what the write cost.
 *
 * @param logicalBytes uncompressed bytes of the stream
 * @param storedBytesAdded compressed bytes of the blocks this write added to the store
 */
public record BlockWriteResult(List<BlockRef> refs, long logicalBytes, long storedBytesAdded, int blocksAdded) {

    public BlockWriteResult {
        refs = List.copyOf(refs);
    }

    static BlockWriteResult of(List<BlockRef> refs) {
        long logical = 0;
        long added = 0;
        int blocksAdded = 0;
        for (BlockRef r : refs) {
            logical += r.uncompressedLength();
            if (r.newlyWritten()) {
                added += r.storedLength();
                blocksAdded++;
            }
        }
        return new BlockWriteResult(refs, logical, added, blocksAdded);
    }
}
