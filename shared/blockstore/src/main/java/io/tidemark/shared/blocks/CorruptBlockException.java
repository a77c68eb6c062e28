package io.tidemark.shared.blocks;

/** A stored block that does not decompress, or whose bytes do not hash to its id. */
public final class CorruptBlockException extends RuntimeException {

    private final BlockId blockId;

    public CorruptBlockException(BlockId blockId, String problem) {
        this(blockId, problem, null);
    }

    public CorruptBlockException(BlockId blockId, String problem, Throwable cause) {
        super("corrupt block " + blockId.hex() + ": " + problem, cause);
        this.blockId = blockId;
    }

    public BlockId blockId() {
        return blockId;
    }
}
