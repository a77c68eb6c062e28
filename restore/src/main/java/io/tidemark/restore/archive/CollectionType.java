package io.tidemark.restore.archive;

/**
 * The {@code type} that listCollections reports and that mongodump copies into both the prelude
 * entry and the metadata JSON. The oplog entry of an {@code --oplog} dump has no type at all.
 */
public enum CollectionType {
    COLLECTION("collection"),
    VIEW("view"),
    TIMESERIES("timeseries"),
    /** The pseudo-collection holding oplog entries for {@code mongorestore --oplogReplay}. */
    OPLOG("");

    private final String wireName;

    CollectionType(String wireName) {
        this.wireName = wireName;
    }

    /** The string written to the archive. */
    public String wireName() {
        return wireName;
    }

    public static CollectionType fromWireName(String name) {
        for (CollectionType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown collection type: " + name);
    }
}
