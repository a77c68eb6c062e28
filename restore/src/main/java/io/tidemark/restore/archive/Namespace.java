package io.tidemark.restore.archive;

import java.util.Objects;

/**
 * A database and collection name pair. Collection names may contain dots, so the pair is kept
 * apart rather than joined; mongorestore splits {@code db.coll} at the first dot, which is why a
 * database name must not contain one.
 */
public record Namespace(String db, String collection) {

    public Namespace {
        Objects.requireNonNull(db, "db");
        Objects.requireNonNull(collection, "collection");
        if (db.indexOf('.') >= 0) {
            throw new IllegalArgumentException("database name must not contain '.': " + db);
        }
        if (collection.isEmpty()) {
            // mongorestore rejects a namespace header without a collection
            throw new IllegalArgumentException("collection name must not be empty");
        }
        if (db.indexOf('\0') >= 0 || collection.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("names must not contain NUL: " + db + "." + collection);
        }
    }

    public static Namespace of(String db, String collection) {
        return new Namespace(db, collection);
    }

    @Override
    public String toString() {
        return db + "." + collection;
    }
}
