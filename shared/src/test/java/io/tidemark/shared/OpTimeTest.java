package io.tidemark.shared;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import org.bson.BsonTimestamp;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpTimeTest {

    @Test
    void ordersAsMongoDbDoesIncludingTheUnsignedHighRange() {
        assertTrue(new OpTime(10, 2).isAfter(new OpTime(10, 1)));
        assertTrue(new OpTime(11, 0).isAfter(new OpTime(10, 0xFFFF_FFFFL)));
        OpTime high = OpTime.of(new BsonTimestamp(0x9000_0000, 1));
        assertTrue(high.isAfter(new OpTime(0x7FFF_FFFFL, 5)));
        assertEquals(high, OpTime.of(high.toBson()));
    }

    @Test
    void parsesAndPrintsTheOperatorForm() {
        assertEquals(new OpTime(1700000000, 5), OpTime.parse("1700000000:5"));
        assertEquals("1700000000:5", new OpTime(1700000000, 5).toString());
        assertThrows(IllegalArgumentException.class, () -> OpTime.parse("17:"));
        assertThrows(IllegalArgumentException.class, () -> OpTime.parse("-1:2"));
        assertThrows(IllegalArgumentException.class, () -> OpTime.parse("a:b"));
    }

    @Test
    void jsonIsTAndI() {
        JsonObject json = new OpTime(3, 4).toJson();
        assertEquals(new JsonObject().put("t", 3L).put("i", 4L), json);
        assertEquals(new OpTime(3, 4), OpTime.fromJson(json));
        assertThrows(IllegalArgumentException.class, () -> OpTime.fromJson(new JsonObject().put("t", "x")));
    }
}
