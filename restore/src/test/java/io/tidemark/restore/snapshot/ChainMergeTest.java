package io.tidemark.restore.snapshot;

import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.snapshots.DeltaRecords;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChainMergeTest {

    /**
     * A delta deleting every other document of its full snapshot: each time a buffer is nearly
     * full, the next record is a delete, which must not let the document after it overflow the
     * buffer (the crash suite's restore once failed with an index out of bounds here).
     */
    @Test
    void deletesAtBufferBoundariesNeverOverflowABuffer() {
        ByteArrayOutputStream full = new ByteArrayOutputStream();
        ByteArrayOutputStream delta = new ByteArrayOutputStream();
        List<Integer> kept = new ArrayList<>();
        for (int id = 0; id < 2_000; id++) {
            byte[] doc = document(id);
            full.writeBytes(doc);
            if (id % 2 == 1) {
                byte[] key = HeadKeys.ofDocument(doc, 0);
                delta.write(DeltaRecords.DELETE);
                delta.writeBytes(ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(key.length).array());
                delta.writeBytes(key);
            } else {
                kept.add(id);
            }
        }
        List<Integer> merged = new ArrayList<>();
        try (ChainMerge merge = new ChainMerge(List.of(Flux.just(ByteBuffer.wrap(delta.toByteArray())),
                Flux.just(ByteBuffer.wrap(full.toByteArray()))), "test chain", kept.size())) {
            for (ByteBuffer out; (out = merge.next()) != null; ) {
                while (out.hasRemaining()) {
                    int n = out.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
                    byte[] d = new byte[n];
                    out.get(d);
                    merged.add(new RawBsonDocument(d).getInt32("_id").getValue());
                }
            }
        }
        assertEquals(kept, merged);
    }

    private static byte[] document(int id) {
        BsonDocument d = new BsonDocument("_id", new BsonInt32(id)).append("pad", new BsonBinary(new byte[1_000 + id % 7]));
        return java.util.Arrays.copyOf(new RawBsonDocument(d, new BsonDocumentCodec()).getByteBuffer().array(),
                new RawBsonDocument(d, new BsonDocumentCodec()).getByteBuffer().remaining());
    }
}
