package io.tidemark.snapshotter.blocks;

import io.tidemark.snapshotter.chunk.ChunkingParams;
import io.tidemark.snapshotter.chunk.FastCdcChunker;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Turns a stream of logical bytes into stored blocks: chunk, hash, skip what the store
 * already has, compress and write the rest, and report the blocks in stream order.
 *
 * <p>Memory is bounded by {@code maxInFlight} chunks whatever the input size: a chunk is
 * cut only when the parallel stage has room for it, so a slow store stops the chunker,
 * which stops requesting input. References come out in input order (a manifest needs
 * them so) although hashing, compression and writes of different chunks overlap.
 *
 * <p>The existence check comes before compression: on a repeat snapshot most chunks are
 * already stored and cost only a hash and a cheap store lookup (a stat or an indexed
 * find), never a compression or a read of the stored block.
 */
public final class BlockWriter {

    /**
     * @param compressionLevel zstd level; 1 keeps the first full snapshot CPU-cheap, and
     *     the dedup of later snapshots matters far more for stored size than the level
     * @param maxInFlight chunks between the chunker and the emitted references
     */
    public record Options(ChunkingParams chunking, int compressionLevel, int maxInFlight) {
        public Options {
            Objects.requireNonNull(chunking, "chunking");
            if (maxInFlight < 1) {
                throw new IllegalArgumentException("maxInFlight must be positive: " + maxInFlight);
            }
        }

        /**
         * Four chunks per core: enough to keep every core busy while other chunks wait on
         * fsync or a round trip to MongoDB, and only a few MiB of chunk data.
         */
        public static Options defaults() {
            return new Options(ChunkingParams.DEFAULT, 1, Math.max(8, 4 * Runtime.getRuntime().availableProcessors()));
        }

        public Options withCompressionLevel(int level) {
            return new Options(chunking, level, maxInFlight);
        }

        public Options withMaxInFlight(int n) {
            return new Options(chunking, compressionLevel, n);
        }

        public Options withChunking(ChunkingParams params) {
            return new Options(params, compressionLevel, maxInFlight);
        }
    }

    private final BlockStore store;
    private final Scheduler cpu;
    private final Options options;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();

    /**
     * @param cpu where chunking, hashing and compression run; a parallel scheduler sized
     *     to the cores, never an event loop
     */
    public BlockWriter(BlockStore store, Scheduler cpu) {
        this(store, cpu, Options.defaults());
    }

    public BlockWriter(BlockStore store, Scheduler cpu, Options options) {
        this.store = Objects.requireNonNull(store, "store");
        this.cpu = Objects.requireNonNull(cpu, "cpu");
        this.options = Objects.requireNonNull(options, "options");
    }

    public Options options() {
        return options;
    }

    /** Writes the stream and collects its block references and totals. */
    public Mono<BlockWriteResult> write(Flux<ByteBuffer> data) {
        return writeAll(data).collectList().map(BlockWriteResult::of);
    }

    /**
     * Writes the stream, emitting a reference per block in stream order as soon as it and
     * all blocks before it are durable. The buffers are read from their position to their
     * limit and not modified.
     */
    public Flux<BlockRef> writeAll(Flux<ByteBuffer> data) {
        return Flux.defer(() -> {
            AtomicInteger mine = new AtomicInteger();
            return chunks(data)
                    .doOnNext(c -> {
                        mine.incrementAndGet();
                        peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                    })
                    .flatMapSequential(this::store, options.maxInFlight(), 1)
                    .doOnNext(r -> {
                        mine.decrementAndGet();
                        inFlight.decrementAndGet();
                    })
                    .doFinally(s -> inFlight.addAndGet(-mine.getAndSet(0)));
        });
    }

    /** Chunks currently held by writes through this writer (a gauge). */
    public int chunksInFlight() {
        return inFlight.get();
    }

    /** The highest {@link #chunksInFlight()} seen since creation. */
    public int peakChunksInFlight() {
        return peakInFlight.get();
    }

    private Flux<byte[]> chunks(Flux<ByteBuffer> data) {
        return Flux.defer(() -> {
            FastCdcChunker chunker = new FastCdcChunker(options.chunking());
            // subscribeOn per buffer: each chunk is cut when downstream asks for it, and
            // that request may come from a store's I/O thread; this moves the cutting to cpu.
            Flux<byte[]> cut = data.concatMap(buffer -> {
                ByteBuffer view = buffer.duplicate();
                return Flux.<byte[]>generate(sink -> {
                    byte[] chunk = chunker.next(view);
                    if (chunk == null) {
                        sink.complete();
                    } else {
                        sink.next(chunk);
                    }
                }).subscribeOn(cpu);
            }, 1);
            return cut.concatWith(Mono.fromSupplier(chunker::finish).subscribeOn(cpu));
        });
    }

    private Mono<BlockRef> store(byte[] chunk) {
        return Mono.fromCallable(() -> BlockId.of(chunk))
                .subscribeOn(cpu)
                .flatMap(id -> store.stat(id)
                        .map(info -> new BlockRef(id, chunk.length, info.storedSize(), false))
                        .switchIfEmpty(Mono.defer(() -> compressAndPut(id, chunk))));
    }

    private Mono<BlockRef> compressAndPut(BlockId id, byte[] chunk) {
        return Mono.fromCallable(() -> BlockCodec.compress(chunk, options.compressionLevel()))
                .subscribeOn(cpu)
                .flatMap(compressed -> store.putIfAbsent(id, compressed, chunk.length)
                        .map(created -> new BlockRef(id, chunk.length, compressed.length, created)));
    }
}
