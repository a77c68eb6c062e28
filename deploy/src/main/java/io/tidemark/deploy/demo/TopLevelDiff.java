package io.tidemark.deploy.demo;

import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * What MongoDB 5.0+ does with {@code {$set: {...}, $unset: {...}}} on top-level fields: the new
 * document, and the {@code $v: 2} diff it logs.
 *
 * <ul>
 *   <li>Fields are processed in MongoDB's update order: lexicographic, numerically where both names
 *       are numbers.</li>
 *   <li>An existing field set to a different value (binary comparison: type and bytes) is replaced
 *       where it stands and logged under {@code u}; a new field is appended and logged under
 *       {@code i}; an unset field that exists is removed and logged under {@code d} as {@code false}.</li>
 *   <li>Setting a field to the bytes it already has, or unsetting a missing one, changes nothing; an
 *       update that changes nothing is a no-op MongoDB does not log.</li>
 *   <li>The diff's sections are in MongoDB's order: d, u, i.</li>
 * </ul>
 */
final class TopLevelDiff {

    private final BsonDocument after;
    private final BsonDocument diff;

    private TopLevelDiff(BsonDocument after, BsonDocument diff) {
        this.after = after;
        this.diff = diff;
    }

    static TopLevelDiff compute(BsonDocument before, BsonDocument set, Collection<String> unset) {
        TreeSet<String> fields = new TreeSet<>(UPDATE_ORDER);
        fields.addAll(set.keySet());
        for (String f : unset) {
            if (!fields.add(f)) {
                throw new IllegalArgumentException("updating the path '" + f + "' would create a conflict");
            }
        }
        BsonDocument after = before.clone();
        BsonDocument d = new BsonDocument();
        BsonDocument u = new BsonDocument();
        List<String> inserted = new ArrayList<>();
        for (String f : fields) {
            check(f);
            BsonValue old = before.get(f);
            if (!set.containsKey(f)) {
                if (old != null) {
                    after.remove(f);
                    d.put(f, BsonBoolean.FALSE);
                }
            } else if (old == null) {
                inserted.add(f);
            } else if (!sameBytes(old, set.get(f))) {
                after.put(f, set.get(f)); // a LinkedHashMap keeps a replaced key where it stands
                u.put(f, set.get(f));
            }
        }
        BsonDocument i = new BsonDocument();
        for (String f : inserted) {
            after.put(f, set.get(f));
            i.put(f, set.get(f));
        }
        BsonDocument diff = new BsonDocument();
        putIfNotEmpty(diff, "d", d);
        putIfNotEmpty(diff, "u", u);
        putIfNotEmpty(diff, "i", i);
        return new TopLevelDiff(after, diff);
    }

    /** True when the update changes nothing, so MongoDB logs nothing. */
    boolean isEmpty() {
        return diff.isEmpty();
    }

    BsonDocument after() {
        return after;
    }

    BsonDocument diff() {
        return diff;
    }

    private static void check(String field) {
        if (field.isEmpty() || field.startsWith("$") || field.contains(".")) {
            throw new IllegalArgumentException("only top-level field names are supported, not '" + field + "'");
        }
        if (field.equals("_id")) {
            throw new IllegalArgumentException("the _id field is immutable");
        }
    }

    private static void putIfNotEmpty(BsonDocument diff, String section, BsonDocument fields) {
        if (!fields.isEmpty()) {
            diff.put(section, fields);
        }
    }

    /** MongoDB's no-op test for $set: same BSON type and same bytes (so 1 and 1.0 differ, as do reordered sub-documents). */
    static boolean sameBytes(BsonValue a, BsonValue b) {
        return a.getBsonType() == b.getBsonType() && Arrays.equals(bytes(a), bytes(b));
    }

    private static byte[] bytes(BsonValue v) {
        var buf = new RawBsonDocument(new BsonDocument("", v), new BsonDocumentCodec()).getByteBuffer();
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }

    /** Field names compare as numbers when both are, else by their UTF-8 bytes. */
    static final Comparator<String> UPDATE_ORDER = (a, b) -> {
        if (isNumber(a) && isNumber(b)) {
            String x = a.replaceFirst("^0+(?=.)", "");
            String y = b.replaceFirst("^0+(?=.)", "");
            int byLength = Integer.compare(x.length(), y.length());
            if (byLength != 0) {
                return byLength;
            }
            int byValue = x.compareTo(y);
            return byValue != 0 ? byValue : a.compareTo(b);
        }
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    };

    private static boolean isNumber(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }
}
