package io.tidemark.deploy.demo;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;

import java.util.Map;
import java.util.StringJoiner;

/** Index specs as MongoDB stores and logs them: {@code {v: 2, key, name, <options>}}. */
final class IndexSpecs {

    static final BsonDocument ID_INDEX = new BsonDocument("v", new BsonInt32(2))
            .append("key", new BsonDocument("_id", new BsonInt32(1)))
            .append("name", new BsonString("_id_"));

    private IndexSpecs() {
    }

    /** The spec for {@code keys} with {@code options} (which may name the index); default name as MongoDB makes it. */
    static BsonDocument spec(BsonDocument keys, BsonDocument options) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("an index needs at least one key");
        }
        BsonValue name = options.containsKey("name") ? options.get("name") : new BsonString(defaultName(keys));
        BsonDocument spec = new BsonDocument("v", new BsonInt32(2)).append("key", keys).append("name", name);
        for (Map.Entry<String, BsonValue> o : options.entrySet()) {
            if (!o.getKey().equals("name")) {
                spec.append(o.getKey(), o.getValue());
            }
        }
        return spec;
    }

    /** {@code {customerId: 1, at: -1}} is named {@code customerId_1_at_-1}, as the shell and drivers name it. */
    static String defaultName(BsonDocument keys) {
        StringJoiner name = new StringJoiner("_");
        for (Map.Entry<String, BsonValue> k : keys.entrySet()) {
            BsonValue v = k.getValue();
            String direction = v.isNumber() && v.asNumber().doubleValue() == Math.rint(v.asNumber().doubleValue())
                    ? String.valueOf(v.asNumber().longValue())
                    : v.isString() ? v.asString().getValue() : v.toString();
            name.add(k.getKey()).add(direction);
        }
        return name.toString();
    }
}
