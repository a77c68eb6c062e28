package io.tidemark.shared.store;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.bson.ObjectId;
import org.h2.mvstore.type.ObjectDataType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyOrderTest {

    private static int cmp(Object a, Object b) {
        return Integer.signum(KeyOrder.INSTANCE.compare(a, b));
    }

    @Test
    void equalIdsCompareEqualHoweverTheirObjectsWereMade() {
        Document fresh = new Document("job", "a").append("gen", 1L).append("seq", 7L);
        Document copied = fresh.clone();
        // What the store file gives back: the same key, written and read.
        ObjectDataType h2 = new ObjectDataType();
        org.h2.mvstore.WriteBuffer out = new org.h2.mvstore.WriteBuffer();
        h2.write(out, fresh);
        Object readBack = h2.read(ByteBuffer.wrap(out.getBuffer().array(), 0, out.position()));
        assertEquals(0, cmp(fresh, copied));
        assertEquals(0, cmp(fresh, readBack));
        assertEquals(0, cmp(new KeyValue(fresh), new KeyValue(readBack)));
    }

    @Test
    void numbersCompareByValueAcrossTheirTypes() {
        assertEquals(0, cmp(5, 5.0));
        assertEquals(0, cmp(5L, 5.0));
        assertEquals(0, cmp(0.0, -0.0));
        assertEquals(-1, cmp(Double.NaN, Double.NEGATIVE_INFINITY));
        assertEquals(-1, cmp(1L, 1.5));
        assertEquals(1, cmp(9_007_199_254_740_993L, 9_007_199_254_740_992.0), "beyond a double's integers, exactly");
        assertEquals(-1, cmp(Double.NEGATIVE_INFINITY, Long.MIN_VALUE));
    }

    @Test
    void documentsAndListsCompareFieldByFieldAndElementByElement() {
        assertEquals(-1, cmp(new Document("a", 1).append("b", 2), new Document("a", 1).append("b", 3)));
        assertEquals(1, cmp(new Document("b", 1), new Document("a", 1).append("b", 1)), "field names in order");
        assertEquals(-1, cmp(new Document("a", 1), new Document("a", 1).append("b", 1)), "a prefix first");
        assertEquals(-1, cmp(List.of(1, 2), List.of(1, 3)));
        assertEquals(1, cmp(List.of(1, 2, 0), List.of(1, 2)));
    }

    @Test
    void typesFollowBsonOrderAndTheOrderIsTotal() {
        List<Object> values = new ArrayList<>(List.of(MaxKey.getInstance(), new ObjectId(), true, List.of(1), new Document("x", 1),
                "s", 3, Missing.getInstance(), MinKey.getInstance()));
        values.sort(KeyOrder.INSTANCE);
        assertEquals(MinKey.getInstance(), values.get(0));
        assertEquals(Missing.getInstance(), values.get(1));
        assertEquals(3, values.get(2));
        assertEquals("s", values.get(3));
        assertTrue(values.get(8) instanceof MaxKey);
        for (Object a : values) {
            for (Object b : values) {
                assertEquals(-cmp(b, a), cmp(a, b), a + " against " + b);
            }
        }
    }
}
