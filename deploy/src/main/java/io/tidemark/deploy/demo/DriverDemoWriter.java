package io.tidemark.deploy.demo;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.Document;
import org.bson.conversions.Bson;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Writes the demo through the driver to a real MongoDB, which logs its own oplog. */
public final class DriverDemoWriter implements DemoWriter {

    private final MongoClient client;

    public DriverDemoWriter(String uri) {
        this.client = MongoClients.create(uri);
    }

    @Override
    public void insertMany(String ns, List<Document> documents) {
        if (!documents.isEmpty()) {
            collection(ns).insertMany(documents);
        }
    }

    @Override
    public boolean update(String ns, Object id, Map<String, ?> set, Collection<String> unset) {
        List<Bson> changes = new ArrayList<>();
        set.forEach((field, value) -> changes.add(Updates.set(field, value)));
        unset.forEach(field -> changes.add(Updates.unset(field)));
        return !changes.isEmpty() && collection(ns).updateOne(Filters.eq("_id", id), Updates.combine(changes)).getModifiedCount() > 0;
    }

    @Override
    public boolean replace(String ns, Object id, Document document) {
        return collection(ns).replaceOne(Filters.eq("_id", id), document).getModifiedCount() > 0;
    }

    @Override
    public boolean delete(String ns, Object id) {
        return collection(ns).deleteOne(Filters.eq("_id", id)).getDeletedCount() > 0;
    }

    @Override
    public void createCollection(String ns) {
        client.getDatabase(Namespaces.db(ns)).createCollection(Namespaces.collection(ns));
    }

    @Override
    public boolean dropCollection(String ns) {
        boolean exists = client.getDatabase(Namespaces.db(ns)).listCollectionNames().into(new ArrayList<>())
                .contains(Namespaces.collection(ns));
        collection(ns).drop();
        return exists;
    }

    /** The createIndexes command with the same spec the shaped source logs, so both name indexes alike. */
    @Override
    public String createIndex(String ns, Document keys, Document options) {
        BsonDocument spec = IndexSpecs.spec(DriverValues.bson(keys), DriverValues.bson(options == null ? new Document() : options));
        spec.remove("v");
        client.getDatabase(Namespaces.db(ns)).runCommand(new BsonDocument("createIndexes", new BsonString(Namespaces.collection(ns)))
                .append("indexes", new BsonArray(List.of(spec))));
        return spec.getString("name").getValue();
    }

    @Override
    public Optional<Document> find(String ns, Object id) {
        return Optional.ofNullable(collection(ns).find(Filters.eq("_id", id)).first());
    }

    @Override
    public Optional<Object> idAt(String ns, int skip) {
        return Optional.ofNullable(collection(ns).find().skip(skip).limit(1).first()).map(d -> d.get("_id"));
    }

    @Override
    public void close() {
        client.close();
    }

    private MongoCollection<Document> collection(String ns) {
        return client.getDatabase(Namespaces.db(ns)).getCollection(Namespaces.collection(ns));
    }
}
