package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockCodec;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockInfo;
import io.tidemark.shared.blocks.BlockNotFoundException;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.CorruptBlockException;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import java.io.ByteArrayOutputStream;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** What every {@link BlockStore} must do; each implementation's test extends this. */
abstract class BlockStoreContract {

    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final ChunkingParams TEST_CHUNKING = new ChunkingParams(16 << 10, 64 << 10, 256 << 10);

    static Scheduler cpu;
    /** Where the file stores do their blocking I/O. */
    static Scheduler io;

    @BeforeAll
    static void startSchedulers() {
        cpu = Schedulers.newParallel("test-cpu", 2);
        io = Schedulers.newBoundedElastic(8, 1000, "test-blockio");
    }

    @AfterAll
    static void stopSchedulers() {
        cpu.dispose();
        io.dispose();
    }

    /** A fresh, empty store for the current test. */
    protected abstract BlockStore store();

    /** Changes one byte of the stored compressed data of {@code id}, behind the store's back. */
    protected abstract void corrupt(BlockId id) throws Exception;

    record Block(BlockId id, byte[] data, byte[] compressed) {
    }

    static Block block(String text) {
        byte[] data = text.repeat(200).getBytes(StandardCharsets.UTF_8);
        return new Block(BlockId.of(data), data, BlockCodec.compress(data, 1));
    }

    static Block randomBlock(long seed, int size) {
        byte[] data = new byte[size];
        new SplittableRandom(seed).nextBytes(data);
        return new Block(BlockId.of(data), data, BlockCodec.compress(data, 1));
    }

    static <T> T await(Mono<T> m) {
        return m.block(TIMEOUT);
    }

    private boolean put(BlockStore s, Block b) {
        return await(s.putIfAbsent(b.id(), b.compressed(), b.data().length));
    }

    /** A fresh store holding {@code other} intact and {@code b} damaged behind its back. */
    private BlockStore withFirstCorrupted(Block b, Block other) throws Exception {
        BlockStore s = store();
        put(s, b);
        put(s, other);
        corrupt(b.id());
        return s;
    }

    @Test
    void putThenReadReturnsTheVerifiedBytes() {
        BlockStore s = store();
        Block b = block("hello blocks ");
        assertTrue(put(s, b));
        assertArrayEquals(b.data(), await(s.read(b.id())));
    }

    @Test
    void putIfAbsentReportsWhetherItWrote() {
        BlockStore s = store();
        Block b = randomBlock(1, 100_000);
        assertFalse(await(s.exists(b.id())));
        assertTrue(put(s, b));
        assertFalse(put(s, b));
        assertTrue(await(s.exists(b.id())));
        assertEquals(1, await(s.list().count()));
    }

    @Test
    void concurrentPutsOfOneBlockWriteItOnce() {
        BlockStore s = store();
        Block b = randomBlock(2, 200_000);
        List<Boolean> results = await(Flux.range(0, 8)
                .flatMap(i -> s.putIfAbsent(b.id(), b.compressed(), b.data().length).subscribeOn(cpu), 8)
                .collectList());
        assertEquals(1, results.stream().filter(x -> x).count(), results.toString());
        assertArrayEquals(b.data(), await(s.read(b.id())));
    }

    @Test
    void statAndListReportStoredSizeAndWriteTime() {
        BlockStore s = store();
        Instant before = Instant.now().minusSeconds(2);
        Block a = block("alpha ");
        Block b = randomBlock(3, 50_000);
        put(s, a);
        put(s, b);
        Instant after = Instant.now().plusSeconds(2);
        BlockInfo info = await(s.stat(a.id()));
        assertEquals(a.compressed().length, info.storedSize());
        assertTrue(info.writtenAt().isAfter(before) && info.writtenAt().isBefore(after), info.toString());
        assertNull(await(s.stat(BlockId.of(new byte[] {42}))));

        List<BlockInfo> all = await(s.list().collectList());
        assertEquals(Set.of(a.id(), b.id()), all.stream().map(BlockInfo::id).collect(Collectors.toSet()));
        assertEquals(a.compressed().length + b.compressed().length, await(s.storedBytes()));
    }

    @Test
    void deleteRemovesAndToleratesAbsence() {
        BlockStore s = store();
        Block a = block("to be collected ");
        put(s, a);
        await(s.delete(a.id()));
        assertFalse(await(s.exists(a.id())));
        await(s.delete(a.id()));
        assertEquals(0L, await(s.storedBytes()));
        assertTrue(put(s, a), "a deleted block can be written again");
    }

    @Test
    void readingAMissingBlockNamesIt() {
        BlockStore s = store();
        BlockId missing = BlockId.of(new byte[] {1, 2, 3});
        BlockNotFoundException e = assertThrows(BlockNotFoundException.class, () -> await(s.read(missing)));
        assertEquals(missing, e.blockId());
        assertTrue(e.getMessage().contains(missing.hex()));
    }

    @Test
    void aCorruptedBlockIsDetectedOnReadWithItsId() throws Exception {
        Block b = randomBlock(4, 300_000);
        Block other = block("untouched ");
        BlockStore s = withFirstCorrupted(b, other);
        CorruptBlockException e = assertThrows(CorruptBlockException.class, () -> await(s.read(b.id())));
        assertEquals(b.id(), e.blockId());
        assertTrue(e.getMessage().contains(b.id().hex()), e.getMessage());
        assertArrayEquals(other.data(), await(s.read(other.id())));
    }

    @Test
    void aBlockFoundCorruptStopsCountingAsStoredAndIsWrittenAgain() throws Exception {
        Block b = randomBlock(6, 100_000);
        Block other = block("still fine ");
        BlockStore s = withFirstCorrupted(b, other);
        assertThrows(CorruptBlockException.class, () -> await(s.read(b.id())));
        assertFalse(await(s.exists(b.id())), "not offered for deduplication any more");
        assertNull(await(s.stat(b.id())));
        assertThrows(CorruptBlockException.class, () -> await(s.read(b.id())), "still named corrupt, not missing");
        assertTrue(await(s.exists(other.id())));
        assertTrue(put(s, b), "the next put writes it again");
        assertArrayEquals(b.data(), await(s.read(b.id())));
        assertTrue(await(s.exists(b.id())));
        assertFalse(put(s, b));
    }

    @Test
    void contentThatDoesNotHashToItsIdIsCorrupt() {
        BlockStore s = store();
        Block real = block("real ");
        Block impostor = block("impostor ");
        await(s.putIfAbsent(real.id(), impostor.compressed(), impostor.data().length));
        CorruptBlockException e = assertThrows(CorruptBlockException.class, () -> await(s.read(real.id())));
        assertTrue(e.getMessage().contains(real.id().hex()));
    }

    @Test
    void putRejectsAFrameThatDisagreesWithTheStatedLength() {
        BlockStore s = store();
        Block b = block("length ");
        assertThrows(IllegalArgumentException.class,
                () -> await(s.putIfAbsent(b.id(), b.compressed(), b.data().length + 1)));
        assertThrows(IllegalArgumentException.class,
                () -> await(s.putIfAbsent(b.id(), b.data(), b.data().length)));
        assertFalse(await(s.exists(b.id())));
    }

    @Test
    void writingTheSameDataTwiceAddsNoBlocksAndReadsBack() {
        BlockStore s = store();
        byte[] data = new SyntheticDocuments(5).bytes(4 << 20);
        BlockWriter writer = new BlockWriter(s, cpu, cpu, BlockWriter.Options.defaults().withChunking(TEST_CHUNKING));

        BlockWriteResult first = await(writer.write(slices(data, 100_000)));
        assertEquals(data.length, first.logicalBytes());
        assertTrue(first.blocksAdded() > 10);
        long stored = await(s.storedBytes());
        assertEquals(first.storedBytesAdded(), stored);
        assertTrue(stored < data.length / 2, "synthetic documents compress: " + stored);

        BlockWriteResult second = await(writer.write(slices(data, 77_777)));
        assertEquals(0, second.blocksAdded());
        assertEquals(0, second.storedBytesAdded());
        assertEquals(stored, await(s.storedBytes()));
        assertEquals(first.refs().stream().map(BlockRef::id).toList(), second.refs().stream().map(BlockRef::id).toList());
        assertEquals(first.refs().stream().map(BlockRef::storedLength).toList(),
                second.refs().stream().map(BlockRef::storedLength).toList());

        ByteArrayOutputStream restored = new ByteArrayOutputStream();
        new BlockReader(s, 4).read(second.refs().stream().map(BlockRef::id).toList())
                .doOnNext(restored::writeBytes)
                .blockLast(TIMEOUT);
        assertArrayEquals(data, restored.toByteArray());
    }

    /** {@code data} as a stream that hands out at most {@code size} bytes per read. */
    static InputStream slices(byte[] data, int size) {
        return new ByteArrayInputStream(data) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, size));
            }
        };
    }
}
