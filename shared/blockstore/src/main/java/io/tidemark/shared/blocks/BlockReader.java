package io.tidemark.shared.blocks;

import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Flux;

/**
 * Reads a stream back from its ordered block ids for a restore. Up to {@code prefetch}
 * blocks are fetched and verified concurrently ahead of the consumer; a consumer that stops
 * requesting stops the reads, so memory stays at about {@code prefetch} blocks.
 */
public final class BlockReader {

    private final BlockStore store;
    private final int prefetch;

    public BlockReader(BlockStore store, int prefetch) {
        this.store = Objects.requireNonNull(store, "store");
        if (prefetch < 1) {
            throw new IllegalArgumentException("prefetch must be positive: " + prefetch);
        }
        this.prefetch = prefetch;
    }

    /** Verified uncompressed chunks in the order of {@code ids}. */
    public Flux<byte[]> read(List<BlockId> ids) {
        return read(Flux.fromIterable(ids));
    }

    public Flux<byte[]> read(Flux<BlockId> ids) {
        return ids.flatMapSequential(store::read, prefetch, 1);
    }
}
