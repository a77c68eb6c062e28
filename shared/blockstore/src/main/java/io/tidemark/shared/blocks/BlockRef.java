package io.tidemark.shared.blocks;

/**
 * One block of a written stream, in stream order.
 *
 * @param storedLength compressed size in the store; for a block that was already present
 *     this is the size the store reports for it
 * @param newlyWritten whether this write added the block (false: deduplicated)
 */
public record BlockRef(BlockId id, int uncompressedLength, long storedLength, boolean newlyWritten) {
}
