package io.tidemark.shared.store;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.BsonJavaScript;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Decimal128;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.LegacyUUID;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.bson.ObjectId;
import org.h2.mvstore.type.ObjectDataType;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The order of the embedded store's keys: document ids and index keys compared by their BSON
 * values, whatever Java objects hold them.
 *
 * <p>H2's own {@link ObjectDataType} orders any key that is not {@link Comparable} by its Java
 * serialization. The embedded server's documents and index keys are not, and the serialization
 * of a document is not canonical: it records its hash table's capacity, which differs between a
 * document decoded from the wire, one copied by an upsert and one read back from the store file.
 * Equal ids then compared unequal once a page had been written and read back, and a lookup by a
 * compound {@code _id} ({job, gen, ns, seq}) missed documents that were there. Keys are still
 * written to the file as {@link ObjectDataType} writes them; only their order is defined here.
 *
 * <p>Numbers compare by value across types (an index holds {@code 5} as a double), as MongoDB
 * compares them; strings, ids and timestamps as their classes do, so that a map of such keys
 * keeps the order H2 gave it before (see {@link KeyOrderUpgrade}).
 */
final class KeyOrder extends ObjectDataType {

    static final KeyOrder INSTANCE = new KeyOrder();

    private KeyOrder() {
    }

    @Override
    public int compare(Object a, Object b) {
        return compareValues(a, b);
    }

    static int compareValues(Object a, Object b) {
        if (a == b) {
            return 0;
        }
        int ra = rank(a);
        int rb = rank(b);
        if (ra != rb) {
            return Integer.compare(ra, rb);
        }
        return switch (ra) {
            case NULL, MIN, MAX -> 0;
            case NUMBER -> compareNumbers((Number) a, (Number) b);
            case STRING -> ((String) a).compareTo((String) b);
            case DOCUMENT -> compareDocuments((Document) a, (Document) b);
            case LIST -> compareSequences(((List<?>) a).iterator(), ((List<?>) b).iterator());
            case KEY -> compareSequences(((KeyValue) a).iterator(), ((KeyValue) b).iterator());
            case BINDATA -> ((BinData) a).compareTo((BinData) b);
            case BYTES -> Arrays.compareUnsigned((byte[]) a, (byte[]) b);
            case LEGACY_UUID -> ((LegacyUUID) a).compareTo((LegacyUUID) b);
            case UUID_RANK -> ((UUID) a).compareTo((UUID) b);
            case OBJECT_ID -> ((ObjectId) a).compareTo((ObjectId) b);
            case BOOLEAN -> Boolean.compare((Boolean) a, (Boolean) b);
            case DATE -> ((Instant) a).compareTo((Instant) b);
            case TIMESTAMP -> ((BsonTimestamp) a).compareTo((BsonTimestamp) b);
            case REGEX -> compareRegex((BsonRegularExpression) a, (BsonRegularExpression) b);
            case JAVASCRIPT -> ((BsonJavaScript) a).getCode().compareTo(((BsonJavaScript) b).getCode());
            default -> compareOther(a, b);
        };
    }

    // BSON's comparison order, then what only the store itself uses as keys.
    private static final int NULL = 0, MIN = -1, NUMBER = 1, STRING = 2, DOCUMENT = 3, LIST = 4, BINDATA = 5, BYTES = 6,
            LEGACY_UUID = 7, UUID_RANK = 8, OBJECT_ID = 9, BOOLEAN = 10, DATE = 11, TIMESTAMP = 12, REGEX = 13,
            JAVASCRIPT = 14, MAX = 15, KEY = 16, OTHER = 17;

    private static int rank(Object v) {
        if (v instanceof MinKey) {
            return MIN;
        } else if (Missing.isNullOrMissing(v)) {
            return NULL;
        } else if (v instanceof Number) {
            return NUMBER;
        } else if (v instanceof String) {
            return STRING;
        } else if (v instanceof Document) {
            return DOCUMENT;
        } else if (v instanceof List) {
            return LIST;
        } else if (v instanceof BinData) {
            return BINDATA;
        } else if (v instanceof byte[]) {
            return BYTES;
        } else if (v instanceof LegacyUUID) {
            return LEGACY_UUID;
        } else if (v instanceof UUID) {
            return UUID_RANK;
        } else if (v instanceof ObjectId) {
            return OBJECT_ID;
        } else if (v instanceof Boolean) {
            return BOOLEAN;
        } else if (v instanceof Instant) {
            return DATE;
        } else if (v instanceof BsonTimestamp) {
            return TIMESTAMP;
        } else if (v instanceof BsonRegularExpression) {
            return REGEX;
        } else if (v instanceof BsonJavaScript) {
            return JAVASCRIPT;
        } else if (v instanceof MaxKey) {
            return MAX;
        } else if (v instanceof KeyValue) {
            return KEY;
        }
        return OTHER;
    }

    /** Exact numeric order; NaN below every number, as MongoDB sorts it; -0 equal to 0. */
    private static int compareNumbers(Number a, Number b) {
        if (integral(a) && integral(b)) {
            return Long.compare(a.longValue(), b.longValue());
        }
        double da = a.doubleValue();
        double db = b.doubleValue();
        if (Double.isNaN(da) || Double.isNaN(db)) {
            return Double.isNaN(da) ? (Double.isNaN(db) ? 0 : -1) : 1;
        }
        if (Double.isInfinite(da) || Double.isInfinite(db)) {
            return Double.compare(da, db);
        }
        return exact(a).compareTo(exact(b));
    }

    private static boolean integral(Number n) {
        return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte;
    }

    private static BigDecimal exact(Number n) {
        if (integral(n)) {
            return BigDecimal.valueOf(n.longValue());
        }
        if (n instanceof Decimal128 d) {
            return d.toBigDecimal();
        }
        return new BigDecimal(n.doubleValue());
    }

    private static int compareDocuments(Document a, Document b) {
        Iterator<Map.Entry<String, Object>> ia = a.entrySet().iterator();
        Iterator<Map.Entry<String, Object>> ib = b.entrySet().iterator();
        while (ia.hasNext() && ib.hasNext()) {
            Map.Entry<String, Object> ea = ia.next();
            Map.Entry<String, Object> eb = ib.next();
            int c = ea.getKey().compareTo(eb.getKey());
            if (c == 0) {
                c = compareValues(ea.getValue(), eb.getValue());
            }
            if (c != 0) {
                return c;
            }
        }
        return Boolean.compare(ia.hasNext(), ib.hasNext());
    }

    private static int compareSequences(Iterator<?> ia, Iterator<?> ib) {
        while (ia.hasNext() && ib.hasNext()) {
            int c = compareValues(ia.next(), ib.next());
            if (c != 0) {
                return c;
            }
        }
        return Boolean.compare(ia.hasNext(), ib.hasNext());
    }

    private static int compareRegex(BsonRegularExpression a, BsonRegularExpression b) {
        int c = a.getPattern().compareTo(b.getPattern());
        return c != 0 ? c : String.valueOf(a.getOptions()).compareTo(String.valueOf(b.getOptions()));
    }

    /** Nothing the server stores as a key, but a total order all the same. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareOther(Object a, Object b) {
        int c = a.getClass().getName().compareTo(b.getClass().getName());
        if (c != 0) {
            return c;
        }
        if (a instanceof Comparable ca) {
            return ca.compareTo(b);
        }
        return compareNotNull(serialize(a), serialize(b));
    }
}
