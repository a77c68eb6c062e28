package io.tidemark.restore.archive;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;

/**
 * What mongorestore needs to recreate one collection, view or time-series collection before
 * its documents arrive: the listCollections {@code options}, the listIndexes specs and the
 * UUID. One instance becomes one prelude entry; {@link #metadataJson()} is the text mongodump
 * would have put in {@code <coll>.metadata.json}.
 *
 * <p>Options and index specs are copied on the way in, so later changes by the caller do not
 * alter an archive that is already being written.
 */
public final class CollectionMetadata {

    static final String TIMESERIES_BUCKET_PREFIX = "system.buckets.";

    private final Namespace namespace;
    private final CollectionType type;
    private final BsonDocument options;
    private final List<BsonDocument> indexes;
    private final String uuid;
    private final String metadataJson;

    private CollectionMetadata(Namespace namespace, CollectionType type, BsonDocument options,
                               List<BsonDocument> indexes, String uuid) {
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.type = Objects.requireNonNull(type, "type");
        this.options = options == null ? new BsonDocument() : options.clone();
        List<BsonDocument> copies = new ArrayList<>(indexes == null ? 0 : indexes.size());
        if (indexes != null) {
            for (BsonDocument spec : indexes) {
                copies.add(validIndexSpec(spec).clone());
            }
        }
        this.indexes = List.copyOf(copies);
        this.uuid = validUuid(uuid);
        checkShape();
        this.metadataJson = type == CollectionType.OPLOG ? "" : CanonicalExtendedJson.write(metadataDocument());
    }

    /** A regular (possibly capped or clustered) collection. */
    public static CollectionMetadata collection(Namespace ns, BsonDocument options,
                                                List<BsonDocument> indexes, String uuidHex) {
        return new CollectionMetadata(ns, CollectionType.COLLECTION, options, indexes, uuidHex);
    }

    /** A view; {@code options} must carry {@code viewOn} and {@code pipeline}. Views have no indexes or UUID. */
    public static CollectionMetadata view(Namespace ns, BsonDocument options) {
        return new CollectionMetadata(ns, CollectionType.VIEW, options, List.of(), null);
    }

    /** A time-series collection; {@code options} must carry the {@code timeseries} sub-document. */
    public static CollectionMetadata timeseries(Namespace ns, BsonDocument options,
                                                List<BsonDocument> indexes, String uuidHex) {
        return new CollectionMetadata(ns, CollectionType.TIMESERIES, options, indexes, uuidHex);
    }

    /**
     * The entry {@code mongodump --oplog} adds so that {@code mongorestore --oplogReplay} finds
     * oplog entries: namespace {@code "".oplog}, no type and empty metadata text.
     */
    public static CollectionMetadata oplog() {
        return new CollectionMetadata(new Namespace("", "oplog"), CollectionType.OPLOG, null, List.of(), null);
    }

    /** mongodump's spelling of a UUID: 32 lowercase hex digits, no dashes. */
    public static String uuidHex(UUID uuid) {
        HexFormat hex = HexFormat.of();
        return hex.toHexDigits(uuid.getMostSignificantBits()) + hex.toHexDigits(uuid.getLeastSignificantBits());
    }

    public Namespace namespace() {
        return namespace;
    }

    public CollectionType type() {
        return type;
    }

    /** A copy of the collection options. */
    public BsonDocument options() {
        return options.clone();
    }

    /** Copies of the index specs, in listIndexes order. */
    public List<BsonDocument> indexes() {
        List<BsonDocument> out = new ArrayList<>(indexes.size());
        for (BsonDocument spec : indexes) {
            out.add(spec.clone());
        }
        return out;
    }

    /** The UUID as lowercase hex, or {@code null} when the source had none (views, old servers). */
    public String uuid() {
        return uuid;
    }

    /** The prelude's {@code metadata} string: canonical Extended JSON, empty for the oplog. */
    public String metadataJson() {
        return metadataJson;
    }

    /**
     * The collection name under which this entry's documents travel. Before 8.3, time-series
     * data is dumped from, and restored into, the bucket collection.
     */
    public String dataCollection(ArchiveHeader header) {
        if (type == CollectionType.TIMESERIES && !header.hasViewlessTimeseries()) {
            return TIMESERIES_BUCKET_PREFIX + namespace.collection();
        }
        return namespace.collection();
    }

    /** The prelude entry, fields in mongodump's order. */
    BsonDocument preludeEntry() {
        return new BsonDocument()
                .append("db", new BsonString(namespace.db()))
                .append("collection", new BsonString(namespace.collection()))
                .append("metadata", new BsonString(metadataJson))
                // mongodump never fills this in (the Go int marshals as int32 0) and mongorestore
                // only uses it to order work it does not schedule in archive mode
                .append("size", new BsonInt32(0))
                .append("type", new BsonString(type.wireName()));
    }

    /** mongodump's Metadata struct: options (omitted when empty), indexes, uuid (omitted when absent), collectionName, type. */
    private BsonDocument metadataDocument() {
        BsonDocument doc = new BsonDocument();
        if (!options.isEmpty()) {
            doc.append("options", options);
        }
        doc.append("indexes", new BsonArray(new ArrayList<BsonValue>(indexes)));
        if (uuid != null) {
            doc.append("uuid", new BsonString(uuid));
        }
        doc.append("collectionName", new BsonString(namespace.collection()));
        doc.append("type", new BsonString(type.wireName()));
        return doc;
    }

    private void checkShape() {
        switch (type) {
            case OPLOG -> {
                if (!namespace.db().isEmpty() || !namespace.collection().equals("oplog")) {
                    throw new IllegalArgumentException("the oplog entry is always \"\".oplog");
                }
            }
            case VIEW -> {
                requireDb();
                if (!options.isString("viewOn") || !options.isArray("pipeline")) {
                    throw new IllegalArgumentException("view " + namespace + " needs options.viewOn (string) and options.pipeline (array)");
                }
                if (!indexes.isEmpty() || uuid != null) {
                    throw new IllegalArgumentException("view " + namespace + " cannot have indexes or a UUID");
                }
            }
            case TIMESERIES -> {
                requireDb();
                if (!options.isDocument("timeseries")) {
                    throw new IllegalArgumentException("time-series " + namespace + " needs options.timeseries");
                }
            }
            case COLLECTION -> {
                requireDb();
                if (namespace.collection().startsWith(TIMESERIES_BUCKET_PREFIX)) {
                    // its data namespace would collide with the time-series entry that owns it
                    throw new IllegalArgumentException("dump the time-series collection, not its buckets: " + namespace);
                }
            }
        }
    }

    private void requireDb() {
        if (namespace.db().isEmpty()) {
            throw new IllegalArgumentException("database name must not be empty");
        }
    }

    private static BsonDocument validIndexSpec(BsonDocument spec) {
        Objects.requireNonNull(spec, "index spec");
        // mongorestore's createIndexes path needs both; a spec without them would fail late,
        // after the data has already been restored
        if (!spec.isDocument("key") || spec.getDocument("key").isEmpty()) {
            throw new IllegalArgumentException("index spec needs a non-empty key document: " + spec.toJson());
        }
        if (!spec.isString("name")) {
            throw new IllegalArgumentException("index spec needs a string name: " + spec.toJson());
        }
        return spec;
    }

    private static String validUuid(String uuid) {
        if (uuid == null) {
            return null;
        }
        if (uuid.length() != 32 || !uuid.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            throw new IllegalArgumentException("uuid must be 32 lowercase hex digits: " + uuid);
        }
        return uuid;
    }

    @Override
    public String toString() {
        return "CollectionMetadata[" + namespace + ", " + type + "]";
    }
}
