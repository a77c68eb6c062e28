package io.tidemark.shared.blocks;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Content-addressed storage of zstd-compressed blocks. Every method returns without
 * blocking the calling thread: implementations do blocking I/O on their own schedulers,
 * and never decompress or hash on the caller's thread or on a database driver's I/O
 * threads.
 *
 * <p>A block is durable when {@link #putIfAbsent} completes, so a manifest written after
 * all its puts have completed never references a block that a crash can lose.
 */
public interface BlockStore {

    /**
     * Stores {@code compressed} (one zstd frame holding {@code uncompressedLength} bytes
     * that hash to {@code id}) unless a block with that id exists.
     *
     * @return true when this call wrote the block, false when it was already there
     */
    Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength);

    /** Whether the block is stored; like {@link #stat}, a true answer means durable. */
    Mono<Boolean> exists(BlockId id);

    /** Size and age of a block without reading its data; empty when absent. */
    Mono<BlockInfo> stat(BlockId id);

    /**
     * The block's uncompressed bytes, verified against its id; errors with
     * {@link CorruptBlockException} when they do not match or do not decompress, and
     * {@link BlockNotFoundException} when there is no such block.
     */
    Mono<byte[]> read(BlockId id);

    /** Every stored block, in no particular order. */
    Flux<BlockInfo> list();

    /** Removes a block if present. Only the garbage collector may call this. */
    Mono<Void> delete(BlockId id);

    /** Sum of the stored (compressed) sizes of all blocks. */
    Mono<Long> storedBytes();
}
