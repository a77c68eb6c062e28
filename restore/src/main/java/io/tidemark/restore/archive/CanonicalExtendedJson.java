package io.tidemark.restore.archive;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDbPointer;
import org.bson.BsonDocument;
import org.bson.BsonJavaScriptWithScope;
import org.bson.BsonRegularExpression;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;

/**
 * Compact canonical Extended JSON v2, laid out the way the Go driver's {@code MarshalExtJSON(v,
 * canonical=true, escapeHTML=false)} lays it out, which is what mongodump stores in archive
 * metadata. The Java driver's {@code JsonWriter} also produces canonical Extended JSON but with
 * {@code ", "}/{@code ": "} separators and different double spelling; mongorestore would parse
 * either, but matching mongodump byte for byte keeps our archives diffable against real dumps.
 */
final class CanonicalExtendedJson {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private CanonicalExtendedJson() {}

    static String write(BsonDocument document) {
        StringBuilder out = new StringBuilder(256);
        writeDocument(out, document);
        return out.toString();
    }

    private static void writeDocument(StringBuilder out, BsonDocument document) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, BsonValue> e : document.entrySet()) {
            if (!first) {
                out.append(',');
            }
            first = false;
            writeString(out, e.getKey());
            out.append(':');
            writeValue(out, e.getValue());
        }
        out.append('}');
    }

    private static void writeValue(StringBuilder out, BsonValue value) {
        switch (value.getBsonType()) {
            case DOUBLE -> single(out, "numberDouble").append('"').append(formatDouble(value.asDouble().getValue())).append("\"}");
            case STRING -> writeString(out, value.asString().getValue());
            case DOCUMENT -> writeDocument(out, value.asDocument());
            case ARRAY -> {
                BsonArray array = value.asArray();
                out.append('[');
                for (int i = 0; i < array.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    writeValue(out, array.get(i));
                }
                out.append(']');
            }
            case BINARY -> {
                BsonBinary bin = value.asBinary();
                out.append("{\"$binary\":{\"base64\":\"")
                        .append(Base64.getEncoder().encodeToString(bin.getData()))
                        .append("\",\"subType\":\"");
                hexByte(out, bin.getType());
                out.append("\"}}");
            }
            case UNDEFINED -> out.append("{\"$undefined\":true}");
            case OBJECT_ID -> single(out, "oid").append('"').append(value.asObjectId().getValue().toHexString()).append("\"}");
            case BOOLEAN -> out.append(value.asBoolean().getValue());
            case DATE_TIME -> out.append("{\"$date\":{\"$numberLong\":\"").append(value.asDateTime().getValue()).append("\"}}");
            case NULL -> out.append("null");
            case REGULAR_EXPRESSION -> {
                BsonRegularExpression re = value.asRegularExpression();
                char[] options = re.getOptions().toCharArray();
                // Extended JSON v2 requires the flags in alphabetical order
                Arrays.sort(options);
                out.append("{\"$regularExpression\":{\"pattern\":");
                writeString(out, re.getPattern());
                out.append(",\"options\":");
                writeString(out, new String(options));
                out.append("}}");
            }
            case DB_POINTER -> {
                BsonDbPointer p = value.asDBPointer();
                out.append("{\"$dbPointer\":{\"$ref\":");
                writeString(out, p.getNamespace());
                out.append(",\"$id\":{\"$oid\":\"").append(p.getId().toHexString()).append("\"}}}");
            }
            case JAVASCRIPT -> {
                single(out, "code");
                writeString(out, value.asJavaScript().getCode());
                out.append('}');
            }
            case SYMBOL -> {
                single(out, "symbol");
                writeString(out, value.asSymbol().getSymbol());
                out.append('}');
            }
            case JAVASCRIPT_WITH_SCOPE -> {
                BsonJavaScriptWithScope js = value.asJavaScriptWithScope();
                single(out, "code");
                writeString(out, js.getCode());
                out.append(",\"$scope\":");
                writeDocument(out, js.getScope());
                out.append('}');
            }
            case INT32 -> single(out, "numberInt").append('"').append(value.asInt32().getValue()).append("\"}");
            case TIMESTAMP -> {
                BsonTimestamp ts = value.asTimestamp();
                out.append("{\"$timestamp\":{\"t\":").append(Integer.toUnsignedString(ts.getTime()))
                        .append(",\"i\":").append(Integer.toUnsignedString(ts.getInc())).append("}}");
            }
            case INT64 -> single(out, "numberLong").append('"').append(value.asInt64().getValue()).append("\"}");
            case DECIMAL128 -> single(out, "numberDecimal").append('"').append(value.asDecimal128().getValue()).append("\"}");
            case MIN_KEY -> out.append("{\"$minKey\":1}");
            case MAX_KEY -> out.append("{\"$maxKey\":1}");
            default -> throw new IllegalArgumentException("cannot represent BSON type " + value.getBsonType());
        }
    }

    private static StringBuilder single(StringBuilder out, String key) {
        return out.append("{\"$").append(key).append("\":");
    }

    private static void hexByte(StringBuilder out, int b) {
        out.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
    }

    /** encoding/json's escaping rules, as the Go driver uses them with HTML escaping off. */
    static void writeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00");
                        hexByte(out, c);
                    } else if (c == '\u2028' || c == '\u2029') {
                        // JavaScript line terminators: valid JSON, escaped for the sake of JS eval
                        out.append("\\u202").append(c == '\u2028' ? '8' : '9');
                    } else if (Character.isSurrogate(c) && !validSurrogatePair(s, i)) {
                        // Go replaces invalid UTF-8 with U+FFFD; a lone surrogate is the Java equivalent
                        out.append("\\ufffd");
                    } else {
                        out.append(c);
                        if (Character.isHighSurrogate(c)) {
                            out.append(s.charAt(++i));
                        }
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean validSurrogatePair(String s, int i) {
        return Character.isHighSurrogate(s.charAt(i))
                && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1));
    }

    /**
     * Go's {@code strconv.FormatFloat(f, 'G', -1, 64)} plus the driver's ".0" for integral
     * values: shortest round-trip digits, exponent form when the decimal exponent is below -4
     * or at least 6 (the 'G' threshold for shortest formatting), exponent written with a sign
     * and at least two digits.
     */
    /**
     * Fewest significant digits that parse back to {@code d}. Not Double.toString: before JDK 19
     * it sometimes emits a digit more than needed (4.9E-324 for what Go writes as 5E-324).
     */
    private static BigDecimal shortestRoundTrip(double d) {
        BigDecimal exact = new BigDecimal(d);
        for (int digits = 1; digits < 17; digits++) {
            BigDecimal rounded = exact.round(new MathContext(digits, RoundingMode.HALF_EVEN));
            if (rounded.doubleValue() == d) {
                return rounded.stripTrailingZeros();
            }
        }
        return exact.round(new MathContext(17, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }

    static String formatDouble(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        boolean negative = (Double.doubleToRawLongBits(d) & Long.MIN_VALUE) != 0;
        String sign = negative ? "-" : "";
        if (d == 0) {
            return sign + "0.0";
        }
        BigDecimal exact = shortestRoundTrip(Math.abs(d));
        String digits = exact.unscaledValue().toString();
        int nd = digits.length();
        // value = 0.<digits> * 10^dp
        int dp = nd - exact.scale();
        int exp = dp - 1;
        StringBuilder out = new StringBuilder(24).append(sign);
        if (exp < -4 || exp >= 6) {
            out.append(digits.charAt(0));
            if (nd > 1) {
                out.append('.').append(digits, 1, nd);
            }
            out.append('E').append(exp < 0 ? '-' : '+');
            int abs = Math.abs(exp);
            if (abs < 10) {
                out.append('0');
            }
            out.append(abs);
            return out.toString();
        }
        if (dp > 0) {
            for (int i = 0; i < dp; i++) {
                out.append(i < nd ? digits.charAt(i) : '0');
            }
        } else {
            out.append('0');
        }
        int fraction = Math.max(nd - dp, 0);
        if (fraction > 0) {
            out.append('.');
            for (int i = 0; i < fraction; i++) {
                int j = dp + i;
                out.append(j >= 0 && j < nd ? digits.charAt(j) : '0');
            }
        } else {
            out.append(".0");
        }
        return out.toString();
    }
}
