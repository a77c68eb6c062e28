package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import static io.tidemark.snapshotter.blocks.BlockStoreContract.TIMEOUT;
import static io.tidemark.snapshotter.blocks.BlockStoreContract.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import io.tidemark.snapshotter.chunk.FastCdcChunker;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

class BlockWriterTest {

    private static final ChunkingParams SMALL = new ChunkingParams(4 << 10, 16 << 10, 64 << 10);

    static Scheduler cpu;
    static Scheduler io;

    @BeforeAll
    static void start() {
        cpu = Schedulers.newParallel("writer-cpu", 2);
        io = Schedulers.newBoundedElastic(8, 1000, "writer-io");
    }

    @AfterAll
    static void stop() {
        cpu.dispose();
        io.dispose();
    }

    private static List<BlockId> sequentialIds(byte[] data, ChunkingParams p) {
        FastCdcChunker chunker = new FastCdcChunker(p);
        List<BlockId> ids = new ArrayList<>();
        chunker.feed(ByteBuffer.wrap(data), c -> ids.add(BlockId.of(c)));
        byte[] last = chunker.finish();
        if (last != null) {
            ids.add(BlockId.of(last));
        }
        return ids;
    }

    @Test
    void referencesKeepInputOrderUnderParallelism() {
        byte[] data = new SyntheticDocuments(21).bytes(8 << 20);
        InMemoryBlockStore store = new InMemoryBlockStore(Duration.ofMillis(3));
        BlockWriter writer = new BlockWriter(store, cpu, io, BlockWriter.Options.defaults().withChunking(SMALL).withMaxInFlight(16));

        BlockWriteResult result = writer.write(slices(data, 123_457)).block(TIMEOUT);

        assertEquals(sequentialIds(data, SMALL), result.refs().stream().map(BlockRef::id).toList());
        assertEquals(data.length, result.logicalBytes());
        assertTrue(store.peakConcurrentOps.get() > 4, "work overlapped: " + store.peakConcurrentOps.get());
    }

    @Test
    void aRepeatWriteNeitherCompressesNorPuts() {
        byte[] data = new SyntheticDocuments(22).bytes(4 << 20);
        InMemoryBlockStore store = new InMemoryBlockStore(Duration.ZERO);
        BlockWriter writer = new BlockWriter(store, cpu, io, BlockWriter.Options.defaults().withChunking(SMALL));
        BlockWriteResult first = writer.write(slices(data, 1 << 20)).block(TIMEOUT);
        int putsAfterFirst = store.puts.get();
        assertEquals(first.refs().size(), putsAfterFirst);

        BlockWriteResult second = writer.write(slices(data, 1 << 20)).block(TIMEOUT);
        assertEquals(putsAfterFirst, store.puts.get(), "existing blocks are neither compressed nor written");
        assertEquals(0, second.blocksAdded());
        assertTrue(second.refs().stream().noneMatch(BlockRef::newlyWritten));
    }

    @Test
    void aSlowStoreHoldsBackReadingAndBoundsChunksInFlight() {
        int maxInFlight = 4;
        InMemoryBlockStore store = new InMemoryBlockStore(Duration.ofMillis(4));
        BlockWriter.Options options = BlockWriter.Options.defaults().withChunking(SMALL).withMaxInFlight(maxInFlight);
        BlockWriter writer = new BlockWriter(store, cpu, io, options);
        AtomicLong pulled = new AtomicLong();
        AtomicLong written = new AtomicLong();
        AtomicLong worstGap = new AtomicLong();

        InputStream docs = new SyntheticDocuments(23).input(24 << 20);
        InputStream source = new FilterInputStream(docs) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                pulled.addAndGet(Math.max(0, n));
                return n;
            }
        };
        writer.writeAll(source, KnownBlocks.none())
                .doOnNext(ref -> {
                    long gap = pulled.get() - written.addAndGet(ref.uncompressedLength());
                    worstGap.accumulateAndGet(gap, Math::max);
                })
                .blockLast(TIMEOUT);

        // In flight between source and emitted reference: the read buffer being cut (which
        // holds the unfinished chunk) and at most maxInFlight chunks of earlier buffers.
        long bound = options.readBufferSize() + (maxInFlight + 1L) * SMALL.maxSize();
        assertTrue(worstGap.get() <= bound, "read ahead " + worstGap.get() + " > " + bound);
        assertTrue(writer.peakChunksInFlight() <= maxInFlight, "peak " + writer.peakChunksInFlight());
        assertTrue(store.peakConcurrentOps.get() <= maxInFlight, "store ops " + store.peakConcurrentOps.get());
        assertEquals(0, writer.chunksInFlight());
    }

    /**
     * A head a day later: documents appended at the end of a namespace, or a run of
     * documents rewritten in place. Each edited place costs the chunks it touches plus about
     * one neighbour (see FastCdcChunkerTest), so ~1% of change in one place stays under 3%.
     */
    @Test
    void changingAboutOnePercentInOnePlaceStoresAtMostThreePercentNew(@TempDir Path dir) {
        byte[] original = new SyntheticDocuments(24).bytes(64 << 20);
        FilesystemBlockStore store = new FilesystemBlockStore(dir, io);
        BlockWriter writer = new BlockWriter(store, cpu, io, BlockWriter.Options.defaults());
        long firstStored = writer.write(slices(original, 1 << 20)).block(TIMEOUT).storedBytesAdded();
        byte[] fresh = new SyntheticDocuments(25).bytes(original.length / 100);

        byte[] appended = Arrays.copyOf(original, original.length + fresh.length);
        System.arraycopy(fresh, 0, appended, original.length, fresh.length);
        assertNewShareAtMost(0.03, firstStored, writer.write(slices(appended, 1 << 20)).block(TIMEOUT));

        byte[] rewritten = original.clone();
        System.arraycopy(fresh, 0, rewritten, original.length / 2, fresh.length);
        assertNewShareAtMost(0.03, firstStored, writer.write(slices(rewritten, 1 << 20)).block(TIMEOUT));
    }

    private static void assertNewShareAtMost(double limit, long firstStored, BlockWriteResult second) {
        double share = (double) second.storedBytesAdded() / firstStored;
        assertTrue(share <= limit, String.format("%.2f%% of the first write's stored bytes are new (%d blocks of %d)",
                100 * share, second.blocksAdded(), second.refs().size()));
    }
}
