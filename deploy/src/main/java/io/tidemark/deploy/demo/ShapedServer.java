package io.tidemark.deploy.demo;

import com.mongodb.MongoNamespace;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.RenameCollectionOptions;
import de.bwaldvogel.mongo.MongoServer;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

import java.util.ArrayList;
import java.util.List;

/**
 * The in-process mongo-java-server behind a {@link MongoShapedSource}, driven through the driver,
 * and the oplog the source appends to. Not thread-safe: the source serialises its calls.
 */
final class ShapedServer implements AutoCloseable {

    private static final BsonDocumentCodec BSON = new BsonDocumentCodec();

    private final MongoServer server;
    private final String uri;
    private final MongoClient client;
    private final MongoCollection<RawBsonDocument> oplog;
    private final OplogClock clock = new OplogClock();

    ShapedServer() {
        server = new MongoServer(new ShapedOplogBackend());
        server.bind("127.0.0.1", 0);
        uri = "mongodb://127.0.0.1:" + server.getLocalAddress().getPort();
        client = MongoClients.create(uri);
        // A replica set member always has its oplog; agents look for it before anything else.
        client.getDatabase("local").createCollection("oplog.rs");
        oplog = client.getDatabase("local").getCollection("oplog.rs", RawBsonDocument.class);
    }

    String uri() {
        return uri;
    }

    /** Appends the operations' entries, stamped with strictly increasing timestamps. */
    void log(List<OplogOp> ops) {
        if (ops.isEmpty()) {
            return;
        }
        long wall = System.currentTimeMillis();
        List<RawBsonDocument> entries = new ArrayList<>(ops.size());
        for (OplogOp op : ops) {
            entries.add(raw(op.stamped(clock.next(wall), wall)));
        }
        oplog.insertMany(entries);
    }

    BsonTimestamp lastTs() {
        return clock.last();
    }

    MongoCollection<RawBsonDocument> collection(String ns) {
        return client.getDatabase(Namespaces.db(ns)).getCollection(Namespaces.collection(ns), RawBsonDocument.class);
    }

    MongoCollection<Document> documentCollection(String ns) {
        return client.getDatabase(Namespaces.db(ns)).getCollection(Namespaces.collection(ns));
    }

    /** The stored document with this {@code _id}, or null. */
    BsonDocument find(String ns, BsonValue id) {
        RawBsonDocument doc = collection(ns).find(new BsonDocument("_id", id)).first();
        return doc == null ? null : doc.decode(BSON);
    }

    void insert(String ns, List<RawBsonDocument> documents) {
        if (!documents.isEmpty()) {
            collection(ns).insertMany(documents);
        }
    }

    /**
     * Replaces a document with exactly {@code after}. mongo-java-server skips a replacement it
     * considers equal to the stored document, and its equality ignores field order where MongoDB
     * compares bytes; such a replacement goes through an empty document first.
     */
    void store(String ns, BsonDocument after) {
        BsonDocument id = new BsonDocument("_id", after.get("_id"));
        collection(ns).replaceOne(id, raw(after));
        if (!TopLevelDiff.sameBytes(find(ns, after.get("_id")), after)) {
            collection(ns).replaceOne(id, raw(id));
            collection(ns).replaceOne(id, raw(after));
            if (!TopLevelDiff.sameBytes(find(ns, after.get("_id")), after)) {
                throw new IllegalStateException("the embedded server did not store " + after.toJson());
            }
        }
    }

    void create(String ns, BsonDocument options) {
        BsonDocument command = new BsonDocument("create", new BsonString(Namespaces.collection(ns)));
        command.putAll(options);
        client.getDatabase(Namespaces.db(ns)).runCommand(command);
    }

    /** Same database only: mongo-java-server cannot move a collection into a database that has none yet. */
    void rename(String from, String to, boolean dropTarget) {
        collection(from).renameCollection(new MongoNamespace(to), new RenameCollectionOptions().dropTarget(dropTarget));
    }

    void createIndex(String ns, BsonDocument spec) {
        BsonDocument request = spec.clone();
        request.remove("v"); // the server picks the index version itself
        client.getDatabase(Namespaces.db(ns)).runCommand(new BsonDocument("createIndexes", new BsonString(Namespaces.collection(ns)))
                .append("indexes", new BsonArray(List.of(request))));
    }

    @Override
    public void close() {
        client.close();
        server.shutdownNow();
    }

    static RawBsonDocument raw(BsonDocument doc) {
        return new RawBsonDocument(doc, BSON);
    }
}
