package io.tidemark.restore.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDateTime;
import org.bson.BsonDecimal128;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonMaxKey;
import org.bson.BsonMinKey;
import org.bson.BsonNull;
import org.bson.BsonObjectId;
import org.bson.BsonRegularExpression;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

class CanonicalExtendedJsonTest {

    /** Expected spellings follow Go's strconv.FormatFloat(f, 'G', -1, 64) plus the driver's ".0". */
    @Test
    void doublesAreSpelledAsGoSpellsThem() {
        assertEquals("1.0", CanonicalExtendedJson.formatDouble(1.0));
        assertEquals("-0.0", CanonicalExtendedJson.formatDouble(-0.0));
        assertEquals("0.0", CanonicalExtendedJson.formatDouble(0.0));
        assertEquals("0.5", CanonicalExtendedJson.formatDouble(0.5));
        assertEquals("123456.0", CanonicalExtendedJson.formatDouble(123456.0));
        assertEquals("1E+06", CanonicalExtendedJson.formatDouble(1e6));
        assertEquals("1.5E+300", CanonicalExtendedJson.formatDouble(1.5e300));
        assertEquals("0.0001", CanonicalExtendedJson.formatDouble(1e-4));
        assertEquals("1E-05", CanonicalExtendedJson.formatDouble(1e-5));
        assertEquals("-2.5E-07", CanonicalExtendedJson.formatDouble(-2.5e-7));
        assertEquals("3.14159", CanonicalExtendedJson.formatDouble(3.14159));
        assertEquals("0.1", CanonicalExtendedJson.formatDouble(0.1));
        assertEquals("1.7976931348623157E+308", CanonicalExtendedJson.formatDouble(Double.MAX_VALUE));
        assertEquals("5E-324", CanonicalExtendedJson.formatDouble(Double.MIN_VALUE));
        assertEquals("NaN", CanonicalExtendedJson.formatDouble(Double.NaN));
        assertEquals("-Infinity", CanonicalExtendedJson.formatDouble(Double.NEGATIVE_INFINITY));
    }

    @Test
    void compactCanonicalLayout() {
        BsonDocument doc = new BsonDocument()
                .append("i", new BsonInt32(1))
                .append("l", new BsonInt64(-5))
                .append("d", new BsonDouble(1.0))
                .append("s", new BsonString("q\"\\\n\t\u0001\u2028é<>&"))
                .append("b", BsonBoolean.TRUE)
                .append("n", BsonNull.VALUE)
                .append("a", new BsonArray(java.util.List.of(new BsonInt32(1), new BsonDocument())))
                .append("o", new BsonObjectId(new ObjectId("58ffb124b721bc6c3234333c")))
                .append("dt", new BsonDateTime(1623187283000L))
                .append("bin", new BsonBinary((byte) 4, new byte[] {1, 2, 3}))
                .append("re", new BsonRegularExpression("^a\"", "xi"))
                .append("ts", new BsonTimestamp(0xFFFFFFFF, 7))
                .append("dec", new BsonDecimal128(Decimal128.parse("1.50")))
                .append("min", new BsonMinKey())
                .append("max", new BsonMaxKey())
                .append("k\"ey", new BsonInt32(2));
        String json = CanonicalExtendedJson.write(doc);
        assertEquals("{\"i\":{\"$numberInt\":\"1\"},\"l\":{\"$numberLong\":\"-5\"},\"d\":{\"$numberDouble\":\"1.0\"},"
                + "\"s\":\"q\\\"\\\\\\n\\t\\u0001\\u2028é<>&\",\"b\":true,\"n\":null,"
                + "\"a\":[{\"$numberInt\":\"1\"},{}],\"o\":{\"$oid\":\"58ffb124b721bc6c3234333c\"},"
                + "\"dt\":{\"$date\":{\"$numberLong\":\"1623187283000\"}},"
                + "\"bin\":{\"$binary\":{\"base64\":\"AQID\",\"subType\":\"04\"}},"
                + "\"re\":{\"$regularExpression\":{\"pattern\":\"^a\\\"\",\"options\":\"ix\"}},"
                + "\"ts\":{\"$timestamp\":{\"t\":4294967295,\"i\":7}},"
                + "\"dec\":{\"$numberDecimal\":\"1.50\"},\"min\":{\"$minKey\":1},\"max\":{\"$maxKey\":1},"
                + "\"k\\\"ey\":{\"$numberInt\":\"2\"}}", json);
        // and it means the same thing to another Extended JSON parser
        BsonDocument back = BsonDocument.parse(json);
        back.put("re", new BsonRegularExpression("^a\"", "xi"));
        assertEquals(doc, back);
    }
}
