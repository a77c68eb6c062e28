package io.tidemark.applier;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;

/**
 * One namespace of a head's catalog.
 *
 * @param id          compact id that prefixes every document key of this namespace; never reused,
 *                    so dropping a namespace is a single range delete
 * @param uuid        the collection UUID MongoDB assigned ({@code null} for views, which have none)
 * @param options     collection options as listCollections reports them (raw BSON)
 * @param indexes     ready index specs, as listIndexes returns them, in creation order
 * @param indexBuilds two-phase index builds started but neither committed nor aborted, by build
 *                    UUID; they become {@link #indexes} on commitIndexBuild
 */
public record NamespaceEntry(int id, String db, String collection, UUID uuid, NamespaceType type,
                             RawBsonDocument options, List<RawBsonDocument> indexes,
                             Map<UUID, List<RawBsonDocument>> indexBuilds) {

    public NamespaceEntry {
        if (db == null || db.isEmpty() || db.indexOf('.') >= 0 || collection == null || collection.isEmpty()) {
            throw new IllegalArgumentException("bad namespace " + db + "." + collection);
        }
        if (type == null) {
            throw new IllegalArgumentException("type is required");
        }
        options = options == null ? new RawBsonDocument(new BsonDocument(), new BsonDocumentCodec()) : options;
        indexes = List.copyOf(indexes == null ? List.of() : indexes);
        Map<UUID, List<RawBsonDocument>> builds = new LinkedHashMap<>();
        if (indexBuilds != null) {
            indexBuilds.forEach((k, v) -> builds.put(k, List.copyOf(v)));
        }
        indexBuilds = Collections.unmodifiableMap(builds);
    }

    /** {@code db.collection}, the namespace string MongoDB uses. */
    public String ns() {
        return db + "." + collection;
    }

    public NamespaceEntry renamed(String newDb, String newCollection) {
        return new NamespaceEntry(id, newDb, newCollection, uuid, type, options, indexes, indexBuilds);
    }

    public NamespaceEntry withOptions(RawBsonDocument newOptions) {
        return new NamespaceEntry(id, db, collection, uuid, type, newOptions, indexes, indexBuilds);
    }

    public NamespaceEntry withIndexes(List<RawBsonDocument> newIndexes) {
        return new NamespaceEntry(id, db, collection, uuid, type, options, newIndexes, indexBuilds);
    }

    public NamespaceEntry withIndexBuilds(Map<UUID, List<RawBsonDocument>> newBuilds) {
        return new NamespaceEntry(id, db, collection, uuid, type, options, indexes, newBuilds);
    }

    public NamespaceEntry withType(NamespaceType newType) {
        return new NamespaceEntry(id, db, collection, uuid, newType, options, indexes, indexBuilds);
    }

    /** Index spec with the given name, or null. */
    public RawBsonDocument index(String name) {
        for (RawBsonDocument spec : indexes) {
            BsonValue n = spec.get("name");
            if (n != null && n.isString() && n.asString().getValue().equals(name)) {
                return spec;
            }
        }
        return null;
    }

    RawBsonDocument toBson() {
        BsonDocument d = new BsonDocument();
        d.put("id", new BsonInt32(id));
        d.put("db", new BsonString(db));
        d.put("coll", new BsonString(collection));
        if (uuid != null) {
            d.put("uuid", new BsonBinary(uuid, UuidRepresentation.STANDARD));
        }
        d.put("type", new BsonString(type.wireName()));
        d.put("options", options);
        d.put("indexes", new BsonArray(new ArrayList<>(indexes)));
        BsonArray builds = new BsonArray();
        indexBuilds.forEach((buildUuid, specs) -> builds.add(new BsonDocument("buildUUID",
                new BsonBinary(buildUuid, UuidRepresentation.STANDARD)).append("indexes", new BsonArray(new ArrayList<>(specs)))));
        d.put("indexBuilds", builds);
        return new RawBsonDocument(d, new BsonDocumentCodec());
    }

    static NamespaceEntry fromBson(RawBsonDocument d) {
        UUID uuid = d.containsKey("uuid") ? d.getBinary("uuid").asUuid(UuidRepresentation.STANDARD) : null;
        List<RawBsonDocument> indexes = new ArrayList<>();
        for (BsonValue v : d.getArray("indexes")) {
            indexes.add((RawBsonDocument) v);
        }
        Map<UUID, List<RawBsonDocument>> builds = new LinkedHashMap<>();
        for (BsonValue v : d.getArray("indexBuilds")) {
            BsonDocument b = v.asDocument();
            List<RawBsonDocument> specs = new ArrayList<>();
            for (BsonValue s : b.getArray("indexes")) {
                specs.add((RawBsonDocument) s);
            }
            builds.put(b.getBinary("buildUUID").asUuid(UuidRepresentation.STANDARD), specs);
        }
        return new NamespaceEntry(d.getInt32("id").getValue(), d.getString("db").getValue(),
                d.getString("coll").getValue(), uuid, NamespaceType.fromWireName(d.getString("type").getValue()),
                (RawBsonDocument) d.get("options"), indexes, builds);
    }
}
