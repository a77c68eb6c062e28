package io.tidemark.restore.pit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.bson.RawBsonDocument;
import org.junit.jupiter.api.Test;

class DocumentFramerTest {

    @Test
    void documentsSplitAnywhereComeBackWhole() {
        Random random = new Random(3);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        List<byte[]> docs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            RawBsonDocument d = PitFixture.raw(PitFixture.doc(i, "x".repeat(random.nextInt(300)), i));
            byte[] b = Arrays.copyOfRange(d.getByteBuffer().array(), 0, d.getByteBuffer().limit());
            docs.add(b);
            all.writeBytes(b);
        }
        byte[] stream = all.toByteArray();
        for (int round = 0; round < 20; round++) {
            List<byte[]> out = new ArrayList<>();
            DocumentFramer framer = new DocumentFramer((buf, off, len) -> out.add(Arrays.copyOfRange(buf, off, off + len)));
            int pos = 0;
            while (pos < stream.length) {
                // Pieces of 1 to 3 bytes, too, so lengths themselves are split.
                int n = Math.min(stream.length - pos, round % 2 == 0 ? 1 + random.nextInt(3) : 1 + random.nextInt(2000));
                framer.feed(ByteBuffer.wrap(stream, pos, n));
                pos += n;
            }
            framer.finish();
            assertEquals(docs.size(), out.size());
            for (int i = 0; i < docs.size(); i++) {
                assertArrayEquals(docs.get(i), out.get(i));
            }
            assertEquals(stream.length, framer.bytes());
        }
        DocumentFramer cut = new DocumentFramer((b, o, l) -> { });
        cut.feed(Arrays.copyOf(stream, 10));
        assertThrows(IllegalStateException.class, cut::finish);
    }
}
