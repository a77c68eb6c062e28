package io.tidemark.shared.store;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

import java.util.List;

/**
 * The embedded server on an H2 MVStore file whose documents and unique indexes are kept in
 * {@link KeyOrder}, so that a lookup by any {@code _id} (a compound one too) finds its document
 * however often the store wrote and read back its pages. A store file written in H2's own order
 * is brought to this one when it is opened ({@link KeyOrderUpgrade}).
 */
class OrderedH2Backend extends H2Backend {

    // The map names H2Database uses: the embedded server finds an existing store's collections by them.
    static final String DATA_PREFIX = "databases.";
    static final String INDEX_INFIX = "._index_";

    OrderedH2Backend(String file) {
        super(KeyOrderUpgrade.upgraded(openFile(file)));
    }

    /**
     * The store file with H2's background writer off: the subclass commits every write itself
     * ({@link GroupCommit}), and a background store running beside one of its commits could leave
     * that commit's changes unwritten when it returns.
     */
    private static MVStore openFile(String file) {
        return new MVStore.Builder().fileName(file).autoCommitDisabled().open();
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return new Database(databaseName);
    }

    static <K, V> MVMap.Builder<K, V> ordered() {
        return new MVMap.Builder<K, V>().keyType(KeyOrder.INSTANCE);
    }

    /** H2's database, with its collections' documents and unique indexes opened in key order. */
    private final class Database extends H2Database {

        Database(String databaseName) {
            super(databaseName, OrderedH2Backend.this.getMvStore(), OrderedH2Backend.this.getCursorRegistry());
        }

        @Override
        protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
            String name = getFullCollectionNamespace(collectionName);
            MVMap<Object, Document> data = getMvStore().openMap(DATA_PREFIX + name, OrderedH2Backend.<Object, Document>ordered());
            MVMap<String, Object> meta = getMvStore().openMap("meta." + name);
            return new H2Collection(this, collectionName, options, data, meta, cursorRegistry);
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
            MVMap<KeyValue, Object> map = getMvStore().openMap(getFullCollectionNamespace(collectionName) + INDEX_INFIX + indexName,
                    OrderedH2Backend.<KeyValue, Object>ordered());
            return new OrderedUniqueIndex(map, indexName, keys, sparse);
        }
    }
}
