package io.tidemark.deploy.demo;

import org.bson.Document;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The writes (and the few reads) the demo data set and workload make. Two implementations: the
 * shaped source ({@link MongoShapedSource}) for the embedded test server, whose own oplog is not
 * MongoDB's, and {@link DriverDemoWriter} for a real MongoDB, which writes its own oplog. Updates are
 * only $set/$unset of top-level fields, which both write the same way.
 */
public interface DemoWriter extends AutoCloseable {

    /** Inserts in order; a document without {@code _id} gets an ObjectId. */
    void insertMany(String ns, List<Document> documents);

    default void insert(String ns, Document document) {
        insertMany(ns, List.of(document));
    }

    /** {@code $set} then {@code $unset} of top-level fields; false when no document has the id or nothing changed. */
    boolean update(String ns, Object id, Map<String, ?> set, Collection<String> unset);

    /** Replaces the whole document (keeping its {@code _id}); false when no document has the id or nothing changed. */
    boolean replace(String ns, Object id, Document document);

    /** False when no document has the id. */
    boolean delete(String ns, Object id);

    void createCollection(String ns);

    /** False when there was no such collection. */
    boolean dropCollection(String ns);

    /** Creates an index ({@code options} may hold {@code name}, {@code unique}, …); returns its name. */
    String createIndex(String ns, Document keys, Document options);

    Optional<Document> find(String ns, Object id);

    /** The {@code _id} of the document {@code skip} places into the collection's natural order, if there is one. */
    Optional<Object> idAt(String ns, int skip);

    @Override
    void close();
}
