package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesystemBlockStoreTest extends BlockStoreContract {

    @TempDir
    Path dir;

    private FilesystemBlockStore store;

    @BeforeEach
    void open() {
        store = new FilesystemBlockStore(dir.resolve("blocks"), io);
    }

    @Override
    protected BlockStore store() {
        return store;
    }

    @Override
    protected void corrupt(BlockId id) throws Exception {
        Path file = store.pathOf(id);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(file, bytes);
    }

    @Test
    void blocksAreFannedOutPlainZstdFramesWithNoTemporaryFilesLeft() throws Exception {
        Block b = randomBlock(9, 70_000);
        await(store.putIfAbsent(b.id(), b.compressed(), b.data().length));
        String hex = b.id().hex();
        Path expected = dir.resolve("blocks").resolve(hex.substring(0, 2)).resolve(hex.substring(2, 4)).resolve(hex);
        assertEquals(expected, store.pathOf(b.id()));
        assertArrayEquals(b.data(), Zstd.decompress(Files.readAllBytes(expected), b.data().length));
        try (Stream<Path> all = Files.walk(dir)) {
            List<Path> files = all.filter(Files::isRegularFile).toList();
            assertEquals(List.of(expected), files);
        }
    }

    @Test
    void fileWorkRunsOnTheIoSchedulerNotTheCaller() {
        Block b = block("threads ");
        String caller = Thread.currentThread().getName();
        String ranOn = await(store.putIfAbsent(b.id(), b.compressed(), b.data().length)
                .map(x -> Thread.currentThread().getName()));
        assertTrue(ranOn.startsWith("test-blockio"), ranOn + " (caller " + caller + ")");
        String readOn = await(store.read(b.id()).map(x -> Thread.currentThread().getName()));
        assertTrue(readOn.startsWith("test-blockio"), readOn);
    }

    @Test
    void listingAnEmptyOrMissingRootIsEmpty() {
        assertEquals(0L, await(store.list().count()));
        assertEquals(0L, await(store.storedBytes()));
    }
}
