package io.tidemark.snapshotter.blocks;

import io.tidemark.shared.blocks.BlockId;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class BlockIdTest {

    @Test
    void isTheSha256OfTheBytes() {
        BlockId id = BlockId.of("abc".getBytes(StandardCharsets.US_ASCII));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", id.hex());
        assertEquals(id, BlockId.fromHex(id.hex()));
        assertEquals(id, BlockId.fromBytes(id.bytes()));
        assertArrayEquals(id.bytes(), BlockId.fromHex(id.hex()).bytes());
        assertEquals(id.hashCode(), BlockId.fromHex(id.hex()).hashCode());
        assertTrue(id.matches("abc".getBytes(StandardCharsets.US_ASCII)));
        assertFalse(id.matches("abd".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void rejectsNonCanonicalForms() {
        String upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        assertThrows(IllegalArgumentException.class, () -> BlockId.fromHex(upper));
        assertThrows(IllegalArgumentException.class, () -> BlockId.fromHex("ba78"));
        assertThrows(IllegalArgumentException.class, () -> BlockId.fromBytes(new byte[31]));
    }
}
