package io.tidemark.shared.blocks;

/** A block a reader asked for is not in the store: a manifest references a missing block. */
public final class BlockNotFoundException extends RuntimeException {

    private final BlockId blockId;

    public BlockNotFoundException(BlockId blockId) {
        super("missing block " + blockId.hex());
        this.blockId = blockId;
    }

    public BlockId blockId() {
        return blockId;
    }
}
