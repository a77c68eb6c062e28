package io.tidemark.shared;

import io.tidemark.shared.bson.BsonFrames;
import io.tidemark.shared.bson.MalformedBsonException;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonJavaScriptWithScope;
import org.bson.BsonRegularExpression;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.types.Decimal128;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BsonFramesTest {

    private static byte[] bytes(BsonDocument d) {
        RawBsonDocument raw = RawBsonDocument.parse(d.toJson());
        var b = raw.getByteBuffer();
        return Arrays.copyOfRange(b.array(), b.position(), b.position() + b.remaining());
    }

    private static final BsonDocument RICH = new BsonDocument("_id", new BsonInt32(1))
            .append("s", new BsonString("héllo"))
            .append("a", new BsonArray(List.of(new BsonInt32(1), new BsonDocument("x", new BsonString("y")))))
            .append("b", new BsonBinary(new byte[] {1, 2, 3}))
            .append("re", new BsonRegularExpression("^a", "i"))
            .append("ts", new BsonTimestamp(5, 6))
            .append("d", new org.bson.BsonDecimal128(Decimal128.parse("1.5")))
            .append("js", new BsonJavaScriptWithScope("x", new BsonDocument("x", new BsonInt32(1))));

    @Test
    void splitsConcatenatedDocuments() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(bytes(RICH));
        out.writeBytes(bytes(new BsonDocument()));
        out.writeBytes(bytes(RICH));
        List<BsonFrames.Frame> frames = BsonFrames.split(out.toByteArray());
        assertEquals(3, frames.size());
        assertEquals(5, frames.get(1).length());
    }

    @Test
    void everyTruncationIsRefused() {
        byte[] good = bytes(RICH);
        for (int cut = 1; cut < good.length; cut++) {
            byte[] truncated = Arrays.copyOf(good, cut);
            assertThrows(MalformedBsonException.class, () -> BsonFrames.split(truncated), "cut at " + cut);
        }
    }

    @Test
    void corruptedLengthsTypesAndTerminatorsAreRefused() {
        byte[] good = bytes(RICH);
        byte[] badType = good.clone();
        badType[4] = 0x55;
        assertThrows(MalformedBsonException.class, () -> BsonFrames.split(badType));
        byte[] noTerminator = good.clone();
        noTerminator[noTerminator.length - 1] = 1;
        assertThrows(MalformedBsonException.class, () -> BsonFrames.split(noTerminator));
        byte[] hugeString = bytes(new BsonDocument("s", new BsonString("abc")));
        hugeString[7] = 0x7F; // the string's length now runs past the document
        assertThrows(MalformedBsonException.class, () -> BsonFrames.split(hugeString));
        byte[] badBool = bytes(new BsonDocument("b", org.bson.BsonBoolean.TRUE));
        badBool[8] = 7;
        assertThrows(MalformedBsonException.class, () -> BsonFrames.split(badBool));
        byte[] trailing = Arrays.copyOf(good, good.length + 3);
        assertThrows(MalformedBsonException.class, () -> BsonFrames.split(trailing));
    }
}
