package io.tidemark.deploy.demo;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;

/**
 * mongo-java-server's in-memory backend, whose {@code local.oplog.rs} stores entries exactly as
 * written. A plain collection gives every document without an {@code _id} a generated one, and
 * MongoDB's oplog entries have none, so that collection skips the generation (and keeps no _id index).
 */
final class ShapedOplogBackend extends MemoryBackend {

    @Override
    public MemoryDatabase openOrCreateDatabase(String name) {
        return new Database(name, getCursorRegistry());
    }

    private static final class Database extends MemoryDatabase {
        Database(String name, CursorRegistry cursors) {
            super(name, cursors);
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String collection, CollectionOptions options) {
            if (getDatabaseName().equals("local") && collection.equals("oplog.rs")) {
                return new OplogCollection(this, collection, cursorRegistry);
            }
            return super.openOrCreateCollection(collection, options);
        }
    }

    private static final class OplogCollection extends MemoryCollection {
        OplogCollection(MongoDatabase db, String name, CursorRegistry cursors) {
            super(db, name, CollectionOptions.withoutIdField(), cursors);
        }

        @Override
        public synchronized void addDocument(Document entry) {
            // Without an _id field there are no indexes to maintain: store the entry as it came.
            addDocumentInternal(entry);
        }
    }
}
