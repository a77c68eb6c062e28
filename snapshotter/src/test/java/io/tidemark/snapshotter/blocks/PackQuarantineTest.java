package io.tidemark.snapshotter.blocks;

import static io.tidemark.snapshotter.blocks.PackBlockStoreTest.assertReadsAll;
import static io.tidemark.snapshotter.blocks.PackBlockStoreTest.blocks;
import static io.tidemark.snapshotter.blocks.PackBlockStoreTest.flipByte;
import static io.tidemark.snapshotter.blocks.PackBlockStoreTest.putAll;
import static io.tidemark.snapshotter.blocks.BlockStoreContract.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.CorruptBlockException;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.snapshotter.blocks.BlockStoreContract.Block;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * One damaged byte in a pack store costs its block (or nothing, in an index), never the intact
 * records around it; every finding is in the quarantine log; a torn tail a crash leaves is
 * still cut off.
 */
class PackQuarantineTest {

    private static Scheduler io;

    @TempDir
    Path dir;

    private final List<PackBlockStore> opened = new ArrayList<>();

    @BeforeAll
    static void scheduler() {
        io = Schedulers.newBoundedElastic(4, 1000, "test-blockio");
    }

    @AfterAll
    static void stopScheduler() {
        io.dispose();
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

    private Path packs() {
        return dir.resolve("blocks").resolve("packs");
    }

    private List<Path> files(String suffix) throws IOException {
        try (Stream<Path> all = Files.list(packs())) {
            return all.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

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
        flipByte(pack, at.dataOffset() + at.storedLength() / 2);

        PackBlockStore again = open(PackBlockStore.DEFAULT_PACK_BYTES);
        assertReadsAll(again, others(blocks, victim));
        assertEquals(size, Files.size(pack), "nothing was cut off");
        assertCorrupt(again, victim);
        assertFalse(await(again.exists(victim.id())), "a corrupt block is not offered for deduplication");
        assertCorrupt(again, victim);
        String log = quarantineLog();
        assertTrue(log.contains("corrupt-block") && log.contains(victim.id().hex()), log);

        // Still corrupt after a restart (the quarantine log says so), until it is written again.
        PackBlockStore third = reopen(again);
        assertFalse(await(third.exists(victim.id())));
        assertCorrupt(third, victim);
        assertTrue(await(third.putIfAbsent(victim.id(), victim.compressed(), victim.data().length)));
        assertArrayEquals(victim.data(), await(third.read(victim.id())));
        PackBlockStore fourth = reopen(third);
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
        flipByte(pack, data.dataOffset() + data.storedLength() / 2);
        flipByte(pack, header.recordOffset() + 40);

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
        PackBlockStore third = reopen(again);
        assertReadsAll(third, others(blocks, dataHit, headerHit));
        assertCorrupt(third, dataHit);
        assertEquals(log, quarantineLog());
        assertEquals(size, Files.size(pack));
    }

    @Test
    void aFlippedByteInASealedPackCostsOnlyItsBlock() throws Exception {
        PackBlockStore s = open(PackBlockStoreTest.SMALL_PACK);
        List<Block> blocks = blocks(30, 7100, 20_000);
        putAll(s, blocks);
        Path first = files(".pack").get(0);
        Block victim = blocks.stream().filter(b -> await(s.locate(b.id())).pack().equals(first)).findFirst().orElseThrow();
        PackBlockStore.Location at = await(s.locate(victim.id()));
        s.close();
        long size = Files.size(first);
        flipByte(first, at.dataOffset() + at.storedLength() / 2);

        PackBlockStore again = open(PackBlockStoreTest.SMALL_PACK);
        assertReadsAll(again, others(blocks, victim));
        assertCorrupt(again, victim);
        assertFalse(await(again.exists(victim.id())));
        assertTrue(quarantineLog().contains(victim.id().hex()));
        PackBlockStore third = reopen(again);
        assertCorrupt(third, victim);
        assertEquals(size, Files.size(first));
        assertTrue(await(third.putIfAbsent(victim.id(), victim.compressed(), victim.data().length)));
        assertReadsAll(third, blocks);
    }

    @Test
    void aFlippedByteInAnIndexFileCostsNoBlock() throws Exception {
        PackBlockStore s = open(PackBlockStoreTest.SMALL_PACK);
        List<Block> blocks = blocks(30, 7200, 20_000);
        putAll(s, blocks);
        s.close();
        Path index = files(".idx").get(0);
        flipByte(index, Files.size(index) / 2);

        PackBlockStore again = open(PackBlockStoreTest.SMALL_PACK);
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
        flipByte(journal, 5 * 76 + 30); // inside the sixth entry

        PackBlockStore again = open(PackBlockStore.DEFAULT_PACK_BYTES);
        assertReadsAll(again, blocks);
        assertEquals(blocks.size(), await(again.list().count()));
        assertTrue(quarantineLog().contains("damaged-index\t" + journal.getFileName()), quarantineLog());
        Block more = BlockStoreContract.randomBlock(7999, 10_000);
        assertTrue(await(again.putIfAbsent(more.id(), more.compressed(), more.data().length)));
        assertReadsAll(reopen(again), List.of(more, blocks.get(5)));
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
        PackBlockStore s = open(PackBlockStoreTest.SMALL_PACK);
        List<Block> blocks = blocks(30, 7300, 20_000);
        putAll(s, blocks);
        s.close();
        // Rewrite every index file in the first format (headers back to back) and drop the journal,
        // as a store written before this version has them.
        for (Path index : files(".idx")) {
            Path pack = Path.of(index.toString().replace(".idx", ".pack"));
            writeVersion1Index(index, pack);
        }
        for (Path journal : files(".jnl")) {
            Files.delete(journal);
        }
        PackBlockStore again = open(PackBlockStoreTest.SMALL_PACK);
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

    private PackBlockStore reopen(PackBlockStore s) {
        s.close();
        return open(PackBlockStore.DEFAULT_PACK_BYTES);
    }
}
