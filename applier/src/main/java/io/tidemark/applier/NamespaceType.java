package io.tidemark.applier;

/** What a catalog namespace is, as listCollections reports it. */
public enum NamespaceType {
    COLLECTION("collection"),
    VIEW("view"),
    /** The bucket collection of a time-series collection (created with a {@code timeseries} option). */
    TIMESERIES("timeseries");

    private final String wireName;

    NamespaceType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static NamespaceType fromWireName(String name) {
        for (NamespaceType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown namespace type " + name);
    }
}
