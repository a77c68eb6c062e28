package io.tidemark.snapshotter.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockInfo;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.CorruptBlockException;
import io.tidemark.shared.blocks.PackBlockStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

class PackBlockStoreTest extends BlockStoreContract {

    /** Small packs, so a few dozen blocks of 20 KB span several. */
    static final long SMALL_PACK = 200 << 10;

    @TempDir
    Path dir;

    private final List<PackBlockStore> opened = new ArrayList<>();
    private PackBlockStore store;

    @BeforeEach
    void open() {
        store = open(PackBlockStore.DEFAULT_PACK_BYTES);
    }

    @AfterEach
    void closeAll() {
        opened.forEach(PackBlockStore::close);
    }

    private PackBlockStore open(long packBytes) {
        PackBlockStore s = new PackBlockStore(dir.resolve("blocks"), io, packBytes);
        opened.add(s);
        return s;
    }

    /** Closes {@code s} and opens the directory again, as a restarted server does. */
    private PackBlockStore reopen(PackBlockStore s, long packBytes) {
        s.close();
        return open(packBytes);
    }

    @Override
    protected BlockStore store() {
        return store;
    }

    @Override
    protected void corrupt(BlockId id) throws Exception {
        PackBlockStore.Location at = await(store.locate(id));
        flipByte(at.pack(), at.dataOffset() + at.storedLength() / 2);
    }

    static void flipByte(Path file, long position) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, position);
            b.put(0, (byte) (b.get(0) ^ 0x5a));
            ch.write(b.flip(), position);
        }
    }

    static List<Block> blocks(int n, long seed, int size) {
        List<Block> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(randomBlock(seed + i, size));
        }
        return all;
    }

    static void putAll(BlockStore s, List<Block> blocks) {
        await(Flux.fromIterable(blocks)
                .flatMap(b -> s.putIfAbsent(b.id(), b.compressed(), b.data().length), 8)
                .then());
    }

    static void assertReadsAll(BlockStore s, List<Block> blocks) {
        for (Block b : blocks) {
            assertArrayEquals(b.data(), await(s.read(b.id())), b.id().hex());
        }
    }

    private List<Path> files(String suffix) throws IOException {
        try (Stream<Path> all = Files.list(dir.resolve("blocks").resolve("packs"))) {
            return all.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    @Test
    void aReopenedStoreSeesEveryBlockAndTheirWriteTimes() {
        List<Block> blocks = blocks(10, 100, 30_000);
        putAll(store, blocks);
        Map<BlockId, BlockInfo> before = await(store.list().collectMap(BlockInfo::id, Function.identity()));
        long stored = await(store.storedBytes());

        PackBlockStore again = reopen(store, PackBlockStore.DEFAULT_PACK_BYTES);
        assertReadsAll(again, blocks);
        assertEquals(before, await(again.list().collectMap(BlockInfo::id, Function.identity())));
        assertEquals(stored, await(again.storedBytes()));
        Block more = randomBlock(200, 30_000);
        assertTrue(await(again.putIfAbsent(more.id(), more.compressed(), more.data().length)));
        assertFalse(await(again.putIfAbsent(blocks.get(0).id(), blocks.get(0).compressed(), blocks.get(0).data().length)));
    }

    @Test
    void aTornTailIsCutOffAndEverythingBeforeItStillReads() throws Exception {
        List<Block> blocks = blocks(5, 300, 20_000);
        putAll(store, blocks);
        store.close();
        Path pack = files(".pack").get(0);
        long intact = Files.size(pack);
        // A record whose header made it to disk but only half of its data: a real record, written
        // by a store in another directory, cut in two.
        Block torn = randomBlock(399, 20_000);
        Path other = dir.resolve("donor");
        PackBlockStore donor = new PackBlockStore(other, io);
        opened.add(donor);
        await(donor.putIfAbsent(torn.id(), torn.compressed(), torn.data().length));
        donor.close();
        byte[] record;
        try (Stream<Path> packs = Files.list(other.resolve("packs"))) {
            record = Files.readAllBytes(packs.filter(p -> p.toString().endsWith(".pack")).findFirst().orElseThrow());
        }
        try (FileChannel ch = FileChannel.open(pack, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(record, 0, record.length / 2));
        }
        assertTrue(Files.size(pack) > intact);

        PackBlockStore again = open(PackBlockStore.DEFAULT_PACK_BYTES);
        assertReadsAll(again, blocks);
        assertFalse(await(again.exists(torn.id())), "a torn record is not a block");
        assertEquals(intact, Files.size(pack), "the torn tail was truncated");

        // Appending goes on after the cut, and survives another reopen.
        assertTrue(await(again.putIfAbsent(torn.id(), torn.compressed(), torn.data().length)));
        PackBlockStore third = reopen(again, PackBlockStore.DEFAULT_PACK_BYTES);
        assertReadsAll(third, blocks);
        assertArrayEquals(torn.data(), await(third.read(torn.id())));

        // Plain garbage after the last record is cut off the same way.
        third.close();
        long length = Files.size(pack);
        try (FileChannel ch = FileChannel.open(pack, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}));
        }
        PackBlockStore fourth = open(PackBlockStore.DEFAULT_PACK_BYTES);
        assertEquals(blocks.size() + 1, await(fourth.list().count()));
        assertEquals(length, Files.size(pack));
    }

    @Test
    void packsRollOverAndSealedPacksOpenFromTheirIndexFiles() throws Exception {
        PackBlockStore small = reopen(store, SMALL_PACK);
        List<Block> blocks = blocks(40, 500, 20_000);
        putAll(small, blocks);
        assertReadsAll(small, blocks);
        List<Path> packs = files(".pack");
        List<Path> indexes = files(".idx");
        assertTrue(packs.size() >= 4, "several packs: " + packs);
        assertEquals(packs.size() - 1, indexes.size(), "every pack but the active one is sealed: " + indexes);
        for (Path p : packs) {
            assertTrue(Files.size(p) <= SMALL_PACK, p + " " + Files.size(p));
        }

        // Damage a record's data in the first sealed pack. Opening from the index file does not
        // read the data, so every block is still listed and only that one reads as corrupt;
        // a scan would have cut the pack at the damage instead.
        Block victim = blocks.stream().filter(b -> await(small.locate(b.id())).pack().equals(packs.get(0)))
                .findFirst().orElseThrow();
        PackBlockStore.Location at = await(small.locate(victim.id()));
        PackBlockStore again = reopen(small, SMALL_PACK);
        flipByte(at.pack(), at.dataOffset() + 100);
        assertEquals(blocks.size(), await(again.list().count()));
        CorruptBlockException e = assertThrows(CorruptBlockException.class, () -> await(again.read(victim.id())));
        assertEquals(victim.id(), e.blockId());
        assertReadsAll(again, blocks.stream().filter(b -> b != victim).toList());

        // A lost index file is rebuilt by scanning its pack.
        PackBlockStore third = reopen(again, SMALL_PACK);
        Files.delete(indexes.get(1));
        assertReadsAll(third, blocks.subList(blocks.size() - 5, blocks.size()));
        assertTrue(Files.exists(indexes.get(1)));
    }

    @Test
    void concurrentPutsShareFsyncs() {
        // An uncounted burst first: interpreted appends are slow enough to split groups.
        putAll(store, blocks(50, 600, 8_000));
        List<Block> blocks = blocks(200, 700, 8_000);
        long before = store.fsyncs();
        List<Boolean> written = await(Flux.fromIterable(blocks)
                .flatMap(b -> store.putIfAbsent(b.id(), b.compressed(), b.data().length), blocks.size())
                .collectList());
        assertTrue(written.stream().allMatch(x -> x));
        long fsyncs = store.fsyncs() - before;
        assertTrue(fsyncs >= 1 && fsyncs * 4 <= blocks.size(), fsyncs + " fsyncs for " + blocks.size() + " puts");
        assertReadsAll(store, blocks);
    }

    @Test
    void concurrentPutsOfOneBlockAppendOneRecord() throws Exception {
        Block b = randomBlock(800, 50_000);
        List<Boolean> results = await(Flux.range(0, 16)
                .flatMap(i -> store.putIfAbsent(b.id(), b.compressed(), b.data().length).subscribeOn(cpu), 16)
                .collectList());
        assertEquals(1, results.stream().filter(x -> x).count(), results.toString());
        assertEquals(PackBlockStore.HEADER_BYTES + b.compressed().length, Files.size(files(".pack").get(0)));
    }

    @Test
    void reclaimingAMostlyDeletedPackFreesItWhileReadsGoOn() throws Exception {
        PackBlockStore small = reopen(store, SMALL_PACK);
        List<Block> blocks = blocks(40, 900, 20_000);
        for (Block b : blocks) {
            // one at a time, so the pack order is the list order
            await(small.putIfAbsent(b.id(), b.compressed(), b.data().length));
        }
        Path first = files(".pack").get(0);
        List<Block> inFirst = blocks.stream().filter(b -> await(small.locate(b.id())).pack().equals(first)).toList();
        assertTrue(inFirst.size() >= 4, inFirst.size() + " blocks in the first pack");
        List<Block> doomed = inFirst.subList(0, inFirst.size() - 2);
        List<Block> kept = blocks.stream().filter(b -> !doomed.contains(b)).toList();

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        var readers = Flux.range(0, 4)
                .flatMap(r -> Flux.fromIterable(kept).repeat(() -> !stop.get())
                        .concatMap(b -> small.read(b.id()).doOnNext(data -> {
                            assertArrayEquals(b.data(), data, b.id().hex());
                            reads.incrementAndGet();
                        })), 4)
                .then()
                .toFuture();
        for (Block b : doomed) {
            await(small.delete(b.id()));
        }
        stop.set(true);
        readers.get();
        assertTrue(reads.get() > 0);

        assertFalse(Files.exists(first), "the mostly deleted pack is gone");
        assertFalse(Files.exists(Path.of(first.toString().replace(".pack", ".idx"))));
        assertReadsAll(small, kept);
        long keptBytes = kept.stream().mapToLong(b -> b.compressed().length).sum();
        assertEquals(keptBytes, await(small.storedBytes()));

        // Deletes survive a restart: neither the reclaimed blocks nor deleted ones elsewhere return.
        Block alsoDeleted = kept.get(kept.size() - 1);
        await(small.delete(alsoDeleted.id()));
        PackBlockStore again = reopen(small, SMALL_PACK);
        assertEquals(kept.size() - 1, await(again.list().count()));
        assertEquals(keptBytes - alsoDeleted.compressed().length, await(again.storedBytes()));
        for (Block b : doomed) {
            assertFalse(await(again.exists(b.id())), b.id().hex());
        }
        assertFalse(await(again.exists(alsoDeleted.id())));
        assertReadsAll(again, kept.subList(0, kept.size() - 1));
    }

    @Test
    void aDamagedRecordHeaderIsReportedWithTheBlockId() throws Exception {
        Block b = randomBlock(1000, 40_000);
        Block other = randomBlock(1001, 40_000);
        putAll(store, List.of(b, other));
        PackBlockStore.Location at = await(store.locate(b.id()));
        flipByte(at.pack(), at.recordOffset() + 40);
        CorruptBlockException e = assertThrows(CorruptBlockException.class, () -> await(store.read(b.id())));
        assertEquals(b.id(), e.blockId());
        assertTrue(e.getMessage().contains(b.id().hex()) && e.getMessage().contains("header"), e.getMessage());
        assertArrayEquals(other.data(), await(store.read(other.id())));
    }

    @Test
    void aSecondStoreOnTheSameDirectoryIsRefused() {
        Block b = block("first ");
        await(store.putIfAbsent(b.id(), b.compressed(), b.data().length));
        PackBlockStore second = open(PackBlockStore.DEFAULT_PACK_BYTES);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> await(second.exists(b.id())));
        assertTrue(e.getMessage().contains("open in another"), e.getMessage());
    }

    @Test
    void aFilesystemStoresDirectoryIsRefusedRatherThanReadAsEmpty() throws Exception {
        Files.createDirectories(dir.resolve("blocks").resolve("ab").resolve("cd"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> await(store.storedBytes()));
        assertTrue(e.getMessage().contains("filesystem"), e.getMessage());
    }

    @Test
    void fileWorkRunsOnTheIoSchedulerNotTheCaller() {
        Block b = block("threads ");
        String ranOn = await(store.putIfAbsent(b.id(), b.compressed(), b.data().length)
                .map(x -> Thread.currentThread().getName()));
        assertTrue(ranOn.startsWith("test-blockio"), ranOn);
        String readOn = await(store.read(b.id()).map(x -> Thread.currentThread().getName()));
        assertTrue(readOn.startsWith("test-blockio"), readOn);
        assertEquals(List.of(b.id()), await(store.list().map(BlockInfo::id).collect(Collectors.toList())));
    }
}
