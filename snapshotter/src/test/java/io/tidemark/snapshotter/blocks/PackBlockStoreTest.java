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
import io.tidemark.shared.testing.Damage;
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
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
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
        Damage.flipByte(at.pack(), at.dataOffset() + at.storedLength() / 2);
    }

    private static List<Block> blocks(int n, long seed, int size) {
        List<Block> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.add(randomBlock(seed + i, size));
        }
        return all;
    }

    private static void putAll(BlockStore s, List<Block> blocks) {
        await(Flux.fromIterable(blocks)
                .flatMap(b -> s.putIfAbsent(b.id(), b.compressed(), b.data().length), 8)
                .then());
    }

    private static void assertReadsAll(BlockStore s, List<Block> blocks) {
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
        Damage.flipByte(at.pack(), at.dataOffset() + 100);
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

    /**
     * A burst of puts fills and seals packs within one group commit, so a pack is sealed in the
     * round that also publishes its records. It must not be judged garbage (nothing live in it yet)
     * and reclaimed: once, that rewrote full packs over and over, forever.
     */
    @Test
    void packsSealedInTheRoundThatPublishesTheirRecordsAreNotReclaimed() throws Exception {
        PackBlockStore small = reopen(store, SMALL_PACK);
        List<Block> blocks = blocks(60, 1_000, 20_000);
        await(Flux.fromIterable(blocks).flatMap(b -> small.putIfAbsent(b.id(), b.compressed(), b.data().length), blocks.size())
                .then());
        List<Path> packsBefore = files(".pack");
        assertTrue(packsBefore.size() >= 5, packsBefore.size() + " packs");
        // A delete runs the reclaimer over every pack judged due.
        await(small.delete(blocks.get(0).id()));
        assertEquals(packsBefore, files(".pack"), "no pack of live blocks was rewritten");
        assertReadsAll(small, blocks.subList(1, blocks.size()));
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
        Damage.flipByte(at.pack(), at.recordOffset() + 40);
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

    /**
     * One damaged byte costs its block (or nothing, in an index), never the intact records around
     * it; every finding is in the quarantine log; a torn tail a crash leaves is still cut off.
     */
    @Nested
    class Quarantine {


        private String quarantineLog() throws IOException {
            Path log = dir.resolve("blocks").resolve("quarantine").resolve("quarantine.log");
            return Files.exists(log) ? Files.readString(log) : "";
        }

        private static List<Block> others(List<Block> all, Block... not) {
            return all.stream().filter(b -> !List.of(not).contains(b)).toList();
        }

        private static void assertCorrupt(PackBlockStore s, Block b) {
            CorruptBlockException e = assertThrows(CorruptBlockException.class, () -> await(s.read(b.id())));
            assertEquals(b.id(), e.blockId());
        }

        /** 20 blocks of 70 KB in one unsealed pack, as the issue found them. */
        private List<Block> unsealedPack(PackBlockStore s) {
            List<Block> blocks = new ArrayList<>();
            for (Block b : blocks(20, 7000, 70_000)) {
                await(s.putIfAbsent(b.id(), b.compressed(), b.data().length)); // one by one: pack order is list order
                blocks.add(b);
            }
            return blocks;
        }

        @Test
        void aFlippedByteInTheMiddleOfAnUnsealedPackCostsOnlyItsBlock() throws Exception {
            PackBlockStore s = open(PackBlockStore.DEFAULT_PACK_BYTES);
            List<Block> blocks = unsealedPack(s);
            Block victim = blocks.get(0);
            PackBlockStore.Location at = await(s.locate(victim.id()));
            s.close();
            Path pack = files(".pack").get(0);
            long size = Files.size(pack);
            assertTrue(files(".idx").isEmpty(), "the pack is not sealed");
            Damage.flipByte(pack, at.dataOffset() + at.storedLength() / 2);

            PackBlockStore again = open(PackBlockStore.DEFAULT_PACK_BYTES);
            assertReadsAll(again, others(blocks, victim));
            assertEquals(size, Files.size(pack), "nothing was cut off");
            assertCorrupt(again, victim);
            assertFalse(await(again.exists(victim.id())), "a corrupt block is not offered for deduplication");
            assertCorrupt(again, victim);
            String log = quarantineLog();
            assertTrue(log.contains("corrupt-block") && log.contains(victim.id().hex()), log);

            // Still corrupt after a restart (the quarantine log says so), until it is written again.
            PackBlockStore third = reopen(again, PackBlockStore.DEFAULT_PACK_BYTES);
            assertFalse(await(third.exists(victim.id())));
            assertCorrupt(third, victim);
            assertTrue(await(third.putIfAbsent(victim.id(), victim.compressed(), victim.data().length)));
            assertArrayEquals(victim.data(), await(third.read(victim.id())));
            PackBlockStore fourth = reopen(third, PackBlockStore.DEFAULT_PACK_BYTES);
            assertReadsAll(fourth, blocks);
            assertEquals(blocks.size(), await(fourth.list().count()));
        }

        @Test
        void aPackWithoutAJournalIsScannedPastADamagedRecordAndKeptWhole() throws Exception {
            // A store written before journals existed: the newest pack has neither index nor journal.
            PackBlockStore s = open(PackBlockStore.DEFAULT_PACK_BYTES);
            List<Block> blocks = unsealedPack(s);
            Block dataHit = blocks.get(0);
            Block headerHit = blocks.get(7);
            PackBlockStore.Location data = await(s.locate(dataHit.id()));
            PackBlockStore.Location header = await(s.locate(headerHit.id()));
            s.close();
            Path pack = files(".pack").get(0);
            long size = Files.size(pack);
            Files.delete(files(".jnl").get(0));
            Damage.flipByte(pack, data.dataOffset() + data.storedLength() / 2);
            Damage.flipByte(pack, header.recordOffset() + 40);

            PackBlockStore again = open(PackBlockStore.DEFAULT_PACK_BYTES);
            assertEquals(size, Files.size(pack), "nothing was cut off");
            assertReadsAll(again, others(blocks, dataHit, headerHit));
            // Its header intact, the first is known and named corrupt; the second has no intact header left.
            assertFalse(await(again.exists(dataHit.id())));
            assertCorrupt(again, dataHit);
            assertFalse(await(again.exists(headerHit.id())));
            String log = quarantineLog();
            assertTrue(log.contains("corrupt-block") && log.contains(dataHit.id().hex()), log);
            assertTrue(log.contains("damaged-bytes\t" + pack.getFileName() + "\t" + header.recordOffset()), log);

            // The rebuilt journal lets the next start skip the scan, and nothing is logged twice.
            PackBlockStore third = reopen(again, PackBlockStore.DEFAULT_PACK_BYTES);
            assertReadsAll(third, others(blocks, dataHit, headerHit));
            assertCorrupt(third, dataHit);
            assertEquals(log, quarantineLog());
            assertEquals(size, Files.size(pack));
        }

        @Test
        void aFlippedByteInASealedPackCostsOnlyItsBlock() throws Exception {
            PackBlockStore s = open(SMALL_PACK);
            List<Block> blocks = blocks(30, 7100, 20_000);
            putAll(s, blocks);
            Path first = files(".pack").get(0);
            Block victim = blocks.stream().filter(b -> await(s.locate(b.id())).pack().equals(first)).findFirst().orElseThrow();
            PackBlockStore.Location at = await(s.locate(victim.id()));
            s.close();
            long size = Files.size(first);
            Damage.flipByte(first, at.dataOffset() + at.storedLength() / 2);

            PackBlockStore again = open(SMALL_PACK);
            assertReadsAll(again, others(blocks, victim));
            assertCorrupt(again, victim);
            assertFalse(await(again.exists(victim.id())));
            assertTrue(quarantineLog().contains(victim.id().hex()));
            PackBlockStore third = reopen(again, PackBlockStore.DEFAULT_PACK_BYTES);
            assertCorrupt(third, victim);
            assertEquals(size, Files.size(first));
            assertTrue(await(third.putIfAbsent(victim.id(), victim.compressed(), victim.data().length)));
            assertReadsAll(third, blocks);
        }

        /** 30 blocks of 20 KB in small packs (all but the last sealed), the store closed. */
        private List<Block> inSmallPacks(long seed) {
            PackBlockStore s = open(SMALL_PACK);
            List<Block> blocks = blocks(30, seed, 20_000);
            putAll(s, blocks);
            s.close();
            return blocks;
        }

        @Test
        void aFlippedByteInAnIndexFileCostsNoBlock() throws Exception {
            List<Block> blocks = inSmallPacks(7200);
            Path index = files(".idx").get(0);
            Damage.flipByte(index, Files.size(index) / 2);

            PackBlockStore again = open(SMALL_PACK);
            assertReadsAll(again, blocks);
            assertEquals(blocks.size(), await(again.list().count()));
            String log = quarantineLog();
            assertTrue(log.contains("damaged-index\t" + index.getFileName()), log);
            assertTrue(Files.exists(index), "rebuilt from its pack");
            try (Stream<Path> kept = Files.list(dir.resolve("blocks").resolve("quarantine"))) {
                assertTrue(kept.anyMatch(p -> p.getFileName().toString().startsWith(index.getFileName() + ".")),
                        "the damaged index is kept");
            }
        }

        @Test
        void aFlippedByteInTheActivePacksJournalCostsNoBlock() throws Exception {
            PackBlockStore s = open(PackBlockStore.DEFAULT_PACK_BYTES);
            List<Block> blocks = unsealedPack(s);
            s.close();
            Path journal = files(".jnl").get(0);
            Damage.flipByte(journal, 5 * 76 + 30); // inside the sixth entry

            PackBlockStore again = open(PackBlockStore.DEFAULT_PACK_BYTES);
            assertReadsAll(again, blocks);
            assertEquals(blocks.size(), await(again.list().count()));
            assertTrue(quarantineLog().contains("damaged-index\t" + journal.getFileName()), quarantineLog());
            Block more = BlockStoreContract.randomBlock(7999, 10_000);
            assertTrue(await(again.putIfAbsent(more.id(), more.compressed(), more.data().length)));
            assertReadsAll(reopen(again, PackBlockStore.DEFAULT_PACK_BYTES), List.of(more, blocks.get(5)));
        }

        @Test
        void aTornTailIsCutOffEvenWithoutAJournalAndItsBytesAreKept() throws Exception {
            PackBlockStore s = open(PackBlockStore.DEFAULT_PACK_BYTES);
            List<Block> blocks = unsealedPack(s);
            PackBlockStore.Location last = await(s.locate(blocks.get(19).id()));
            s.close();
            Path pack = files(".pack").get(0);
            Files.delete(files(".jnl").get(0));
            // The last record loses the end of its data, as when a crash cuts a write short.
            long cutAt = last.dataOffset() + last.storedLength() / 2;
            try (FileChannel ch = FileChannel.open(pack, StandardOpenOption.WRITE)) {
                ch.truncate(cutAt);
            }

            PackBlockStore again = open(PackBlockStore.DEFAULT_PACK_BYTES);
            assertReadsAll(again, blocks.subList(0, 19));
            assertFalse(await(again.exists(blocks.get(19).id())));
            assertEquals(last.recordOffset(), Files.size(pack), "the torn record was cut off");
            String log = quarantineLog();
            assertTrue(log.contains("torn-tail\t" + pack.getFileName() + "\t" + last.recordOffset()), log);
            Path copy = dir.resolve("blocks").resolve("quarantine").resolve(pack.getFileName() + "@" + last.recordOffset()
                    + ".bytes");
            assertEquals(cutAt - last.recordOffset(), Files.size(copy));
        }

        @Test
        void storesWithFirstFormatIndexFilesStillOpen() throws Exception {
            List<Block> blocks = inSmallPacks(7300);
            // Rewrite every index file in the first format (headers back to back) and drop the journal,
            // as a store written before this version has them.
            for (Path index : files(".idx")) {
                Path pack = Path.of(index.toString().replace(".idx", ".pack"));
                writeVersion1Index(index, pack);
            }
            for (Path journal : files(".jnl")) {
                Files.delete(journal);
            }
            PackBlockStore again = open(SMALL_PACK);
            assertReadsAll(again, blocks);
            assertEquals("", quarantineLog(), "nothing was found damaged");
        }

        /** Writes a version-1 index for {@code pack}: preamble, its record headers in order, CRC32C. */
        private static void writeVersion1Index(Path index, Path pack) throws IOException {
            byte[] bytes = Files.readAllBytes(pack);
            ByteBuffer in = ByteBuffer.wrap(bytes);
            List<byte[]> headers = new ArrayList<>();
            for (int at = 0; at < bytes.length; ) {
                byte[] h = new byte[PackBlockStore.HEADER_BYTES];
                in.get(at, h);
                headers.add(h);
                at += PackBlockStore.HEADER_BYTES + in.getInt(at + 36);
            }
            long seq = Long.parseLong(pack.getFileName().toString().substring(0, 16), 16);
            ByteBuffer out = ByteBuffer.allocate(28 + headers.size() * PackBlockStore.HEADER_BYTES + 4);
            out.putInt(0x544d5058).putInt(1).putLong(seq).putLong(bytes.length).putInt(headers.size());
            headers.forEach(out::put);
            CRC32C crc = new CRC32C();
            crc.update(out.array(), 0, out.position());
            out.putInt((int) crc.getValue());
            Files.write(index, out.array());
        }
    }
}
