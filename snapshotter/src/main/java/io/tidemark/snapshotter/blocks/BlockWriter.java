package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockCodec;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import io.tidemark.snapshotter.chunk.FastCdcChunker;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Turns a stream of logical bytes into stored blocks: chunk, hash, skip what the store
 * already has, compress and write the rest, and report the blocks in stream order.
 *
 * <p>Chunks are cut in place in large read buffers and hashed and compressed straight from
 * there: no chunk is copied, and the only copy of the input is the unfinished chunk carried
 * from one read buffer into the next. Reading and cutting run on the {@code reader}
 * scheduler (the input may block, as a RocksDB iterator does); hashing, compression and the
 * store calls of different chunks run concurrently on {@code cpu}.
 *
 * <p>Memory is bounded by {@code maxInFlight} chunks whatever the input size: a chunk is
 * cut only when the parallel stage has room for it, so a slow store stops the cutting,
 * which stops reading. Each chunk in flight keeps at most one read buffer alive. References
 * come out in input order (a manifest needs them so) although the work of different chunks
 * overlaps.
 *
 * <p>The existence check comes before compression: on a repeat snapshot most chunks are
 * already stored and cost only a hash and a lookup in {@link KnownBlocks} (or, for blocks
 * it does not know, a cheap store lookup), never a compression or a read of the stored block.
 */
public final class BlockWriter {

    /**
     * @param compressionLevel zstd level; 1 keeps the first full snapshot CPU-cheap, and
     *     the dedup of later snapshots matters far more for stored size than the level
     * @param maxInFlight chunks between the cutter and the emitted references
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

        /** The configured chunk sizes and compression level, with the default parallelism. */
        public static Options of(TidemarkConfig.Snapshots config) {
            return defaults()
                    .withChunking(new ChunkingParams(config.chunkMinBytes(), config.chunkAvgBytes(), config.chunkMaxBytes()))
                    .withCompressionLevel(config.compressionLevel());
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

        /**
         * Read buffers hold at least two maximal chunks, so every refill adds at least one
         * chunk's worth of new bytes after the carried unfinished chunk; 4 MiB keeps the
         * carried share (about half an average chunk per buffer) near 3%.
         */
        int readBufferSize() {
            return Math.max(4 << 20, 2 * chunking.maxSize());
        }
    }

    private final BlockStore store;
    private final Scheduler cpu;
    private final Scheduler reader;
    private final Options options;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();

    /**
     * @param cpu where hashing and compression run: a parallel scheduler sized to the cores,
     *     never an event loop
     * @param reader where the input is read and cut; it may block
     */
    public BlockWriter(BlockStore store, Scheduler cpu, Scheduler reader, Options options) {
        this.store = Objects.requireNonNull(store, "store");
        this.cpu = Objects.requireNonNull(cpu, "cpu");
        this.reader = Objects.requireNonNull(reader, "reader");
        this.options = Objects.requireNonNull(options, "options");
    }

    public Options options() {
        return options;
    }

    /** Writes the stream and collects its block references and totals. */
    public Mono<BlockWriteResult> write(InputStream data) {
        return write(data, KnownBlocks.none());
    }

    public Mono<BlockWriteResult> write(InputStream data, KnownBlocks known) {
        return writeAll(data, known).collectList().map(BlockWriteResult::of);
    }

    /**
     * Writes the stream, emitting a reference per block in stream order as soon as it and
     * all blocks before it are durable. The stream is read to its end and closed, also when
     * the write fails or is cancelled.
     */
    public Flux<BlockRef> writeAll(InputStream data, KnownBlocks known) {
        Objects.requireNonNull(known, "known");
        return Flux.defer(() -> {
            AtomicInteger mine = new AtomicInteger();
            return chunks(data)
                    .doOnNext(c -> {
                        mine.incrementAndGet();
                        peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                    })
                    .flatMapSequential(chunk -> store(chunk, known)
                            // Only once the chunk's work has finished may its buffer be refilled. A
                            // cancelled chunk may still be hashed or compressed on another thread, so
                            // its buffer is left to the garbage collector instead.
                            .doFinally(s -> {
                                if (s != reactor.core.publisher.SignalType.CANCEL) {
                                    chunk.source().release();
                                }
                            }), options.maxInFlight(), 1)
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

    /** A chunk: a range of a read buffer that nothing writes to any more. */
    private record Chunk(ReadBuffer source, int offset, int length) {
        byte[] buffer() {
            return source.bytes;
        }
    }

    /**
     * A read buffer and the number of holders (the cutter while it fills and cuts it, and each
     * chunk cut from it that is still being hashed, compressed or stored). When the last holder
     * lets go the buffer goes back to its cutter's pool for the next refill: allocating a fresh
     * one per refill cost a gigabyte of zeroed humongous arrays per gigabyte snapshotted.
     */
    private static final class ReadBuffer {
        final byte[] bytes;
        private final AtomicInteger holders = new AtomicInteger(1);
        private final java.util.Queue<ReadBuffer> pool;

        ReadBuffer(byte[] bytes, java.util.Queue<ReadBuffer> pool) {
            this.bytes = bytes;
            this.pool = pool;
        }

        void hold() {
            holders.incrementAndGet();
        }

        void release() {
            if (holders.decrementAndGet() == 0) {
                holders.set(1);
                pool.offer(this);
            }
        }
    }

    private Flux<Chunk> chunks(InputStream data) {
        // subscribeOn re-schedules every request: chunks are cut when the parallel stage asks
        // for them, and that request comes from a cpu or store thread; reading may block.
        return Flux.<Chunk, Cutter>generate(() -> new Cutter(data, options), (cutter, sink) -> {
            try {
                Chunk c = cutter.next();
                if (c == null) {
                    sink.complete();
                } else {
                    sink.next(c);
                }
            } catch (IOException e) {
                sink.error(new UncheckedIOException(e));
            }
            return cutter;
        }, Cutter::close).subscribeOn(reader);
    }

    private Mono<BlockRef> store(Chunk chunk, KnownBlocks known) {
        return Mono.fromCallable(() -> BlockId.of(chunk.buffer(), chunk.offset(), chunk.length()))
                .subscribeOn(cpu)
                .flatMap(id -> {
                    long storedLength = known.storedLength(id);
                    if (storedLength >= 0) {
                        return Mono.just(new BlockRef(id, chunk.length(), storedLength, false));
                    }
                    return store.stat(id)
                            .map(info -> new BlockRef(id, chunk.length(), info.storedSize(), false))
                            .switchIfEmpty(Mono.defer(() -> compressAndPut(id, chunk)));
                });
    }

    private Mono<BlockRef> compressAndPut(BlockId id, Chunk chunk) {
        return Mono.fromCallable(() -> BlockCodec.compress(chunk.buffer(), chunk.offset(), chunk.length(),
                        options.compressionLevel()))
                .subscribeOn(cpu)
                .flatMap(compressed -> store.putIfAbsent(id, compressed, chunk.length())
                        .map(created -> new BlockRef(id, chunk.length(), compressed.length, created)));
    }

    /**
     * Reads the input into buffers and cuts chunks in place. Every refill takes a buffer no
     * chunk refers to any more (from the pool, or a new one while all are held: at most one per
     * chunk in flight plus the one being cut) and carries the unfinished chunk to its start.
     */
    private static final class Cutter {
        private final InputStream in;
        private final FastCdcChunker chunker;
        private final int bufferSize;
        private final java.util.Queue<ReadBuffer> pool = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private ReadBuffer current;
        private byte[] buf = new byte[0];
        private int start;
        private int scan;
        private int limit;
        private boolean eof;

        Cutter(InputStream in, Options options) {
            this.in = in;
            this.chunker = new FastCdcChunker(options.chunking());
            this.bufferSize = options.readBufferSize();
        }

        Chunk next() throws IOException {
            while (true) {
                if (scan < limit) {
                    int cut = chunker.findCut(buf, scan, limit);
                    if (cut >= 0) {
                        current.hold();
                        Chunk c = new Chunk(current, start, cut - start);
                        start = cut;
                        scan = cut;
                        return c;
                    }
                    scan = limit;
                }
                if (eof) {
                    if (start < limit) {
                        current.hold();
                        Chunk last = new Chunk(current, start, limit - start);
                        start = limit;
                        chunker.reset();
                        return last;
                    }
                    return null;
                }
                refill();
            }
        }

        private void refill() throws IOException {
            int carry = limit - start;
            ReadBuffer next = pool.poll();
            if (next == null) {
                next = new ReadBuffer(new byte[bufferSize], pool);
            }
            System.arraycopy(buf, start, next.bytes, 0, carry);
            if (current != null) {
                current.release();
            }
            current = next;
            buf = next.bytes;
            start = 0;
            scan = carry;
            limit = carry;
            while (limit < buf.length) {
                int n = in.read(buf, limit, buf.length - limit);
                if (n < 0) {
                    eof = true;
                    return;
                }
                limit += n;
            }
        }

        void close() {
            try {
                in.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
