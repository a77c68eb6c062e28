package io.tidemark.groomer;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockInfo;
import io.tidemark.shared.blocks.BlockStore;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The block store every stage of a process uses when that process also grooms: lookups and
 * writes are recorded in a {@link BlockFence} first, so a sweep never deletes a block a
 * snapshot has just found (see {@link BlockFence} for the argument). Reads, listing and sizes
 * pass straight through. Give the same instance to the snapshotter and the groomer.
 */
public final class FencedBlockStore implements BlockStore {

    private final BlockStore delegate;
    private final BlockFence fence;

    public FencedBlockStore(BlockStore delegate, BlockFence fence) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.fence = Objects.requireNonNull(fence, "fence");
    }

    /** Wraps {@code delegate} with a new fence. */
    public static FencedBlockStore wrap(BlockStore delegate) {
        return new FencedBlockStore(delegate, new BlockFence());
    }

    public BlockFence fence() {
        return fence;
    }

    public BlockStore delegate() {
        return delegate;
    }

    @Override
    public Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength) {
        return fenced(id, () -> delegate.putIfAbsent(id, compressed, uncompressedLength));
    }

    @Override
    public Mono<Boolean> exists(BlockId id) {
        return fenced(id, () -> delegate.exists(id));
    }

    @Override
    public Mono<BlockInfo> stat(BlockId id) {
        return fenced(id, () -> delegate.stat(id));
    }

    @Override
    public Mono<byte[]> read(BlockId id) {
        return delegate.read(id);
    }

    @Override
    public Flux<BlockInfo> list() {
        return delegate.list();
    }

    /**
     * Deletes without consulting the fence: for callers with their own proof that nothing can
     * reference the block. The garbage collector deletes through {@link BlockFence#deleteUnlessTouched}.
     */
    @Override
    public Mono<Void> delete(BlockId id) {
        return delegate.delete(id);
    }

    @Override
    public Mono<Long> storedBytes() {
        return delegate.storedBytes();
    }

    private <T> Mono<T> fenced(BlockId id, java.util.function.Supplier<Mono<T>> call) {
        return Mono.defer(() -> {
            CompletableFuture<Void> deletion = fence.touch(id);
            return deletion == null ? call.get() : Mono.fromFuture(deletion).then(Mono.defer(call));
        });
    }
}
