package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockCodec;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockInfo;
import io.tidemark.shared.blocks.BlockNotFoundException;
import io.tidemark.shared.blocks.BlockStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Test double for pipeline behaviour (ordering, backpressure) where a real store's fsyncs
 * would only slow the test down: a map, optional random latency, and counters.
 */
final class InMemoryBlockStore implements BlockStore {

    private record Stored(byte[] compressed, Instant at) {
    }

    private final Map<BlockId, Stored> blocks = new ConcurrentHashMap<>();
    private final long maxDelayMicros;
    final AtomicInteger puts = new AtomicInteger();
    final AtomicInteger stats = new AtomicInteger();
    final AtomicInteger concurrentOps = new AtomicInteger();
    final AtomicInteger peakConcurrentOps = new AtomicInteger();

    InMemoryBlockStore(Duration maxDelay) {
        this.maxDelayMicros = maxDelay.toNanos() / 1000;
    }

    private <T> Mono<T> slow(Mono<T> op) {
        return Mono.defer(() -> {
            peakConcurrentOps.accumulateAndGet(concurrentOps.incrementAndGet(), Math::max);
            Mono<T> delayed = maxDelayMicros == 0 ? op
                    : Mono.delay(Duration.ofNanos(1000 * ThreadLocalRandom.current().nextLong(maxDelayMicros + 1))).then(op);
            // Count the op as finished before its result travels on, as a store's caller sees it.
            return delayed.doOnTerminate(concurrentOps::decrementAndGet).doOnCancel(concurrentOps::decrementAndGet);
        });
    }

    @Override
    public Mono<Boolean> putIfAbsent(BlockId id, byte[] compressed, int uncompressedLength) {
        puts.incrementAndGet();
        return slow(Mono.fromCallable(() -> {
            BlockCodec.checkFrame(id, compressed, uncompressedLength);
            return blocks.putIfAbsent(id, new Stored(compressed, Instant.now())) == null;
        }));
    }

    @Override
    public Mono<Boolean> exists(BlockId id) {
        return stat(id).hasElement();
    }

    @Override
    public Mono<BlockInfo> stat(BlockId id) {
        stats.incrementAndGet();
        return slow(Mono.fromCallable(() -> {
            Stored s = blocks.get(id);
            return s == null ? null : new BlockInfo(id, s.compressed().length, s.at());
        }));
    }

    @Override
    public Mono<byte[]> read(BlockId id) {
        return slow(Mono.fromCallable(() -> {
            Stored s = blocks.get(id);
            if (s == null) {
                throw new BlockNotFoundException(id);
            }
            return BlockCodec.decodeVerified(id, s.compressed(), -1);
        }));
    }

    @Override
    public Flux<BlockInfo> list() {
        return Flux.fromIterable(blocks.entrySet())
                .map(e -> new BlockInfo(e.getKey(), e.getValue().compressed().length, e.getValue().at()));
    }

    @Override
    public Mono<Void> delete(BlockId id) {
        return Mono.fromRunnable(() -> blocks.remove(id));
    }

    @Override
    public Mono<Long> storedBytes() {
        return list().map(BlockInfo::storedSize).reduce(0L, Long::sum);
    }
}
