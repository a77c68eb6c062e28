package io.tidemark.deploy.demo;

import com.mongodb.MongoBulkWriteException;
import io.tidemark.shared.oplog.OpTime;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonObjectId;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.RawBsonDocument;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import static io.tidemark.deploy.demo.ShapedServer.raw;

/**
 * A source deployment whose oplog is written exactly as MongoDB 7.0 writes it (see {@link OplogOp}
 * for the one deliberate difference, the absent {@code ui}), for the demo and end-to-end tests.
 *
 * <p>mongo-java-server's own oplog is not MongoDB's (it logs the operators a client sent, never logs
 * collection or index DDL, and adds fields of its own), so it stays off. Each write here is performed
 * on an in-process mongo-java-server through the driver and then appended to {@code local.oplog.rs}
 * as the entries MongoDB writes for it. Writes are serialised, so oplog order is apply order. Write
 * only through this class: a write made with a driver on {@link #uri()} is not logged.
 */
public final class MongoShapedSource implements DemoWriter {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final ShapedServer server = new ShapedServer();
    private final Map<String, SourceCollection> catalog = new LinkedHashMap<>();

    public String uri() {
        return server.uri();
    }

    /** The newest entry's timestamp, {@link OpTime#ZERO} before the first write. */
    public synchronized OpTime latestTs() {
        return OpTime.of(server.lastTs());
    }

    // ---------------------------------------------------------------- documents

    @Override
    public synchronized void insertMany(String ns, List<Document> documents) {
        ensureCollection(ns);
        List<RawBsonDocument> docs = new ArrayList<>(documents.size());
        for (Document d : documents) {
            docs.add(raw(withIdFirst(DriverValues.bson(d), null)));
        }
        int inserted = 0;
        try {
            server.insert(ns, docs);
            inserted = docs.size();
        } catch (MongoBulkWriteException e) {
            // An ordered insert stops at its first failure; the documents before it are in, and logged.
            inserted = e.getWriteErrors().isEmpty() ? 0 : e.getWriteErrors().get(0).getIndex();
            throw e;
        } finally {
            server.log(docs.subList(0, inserted).stream().map(d -> OplogOp.insert(ns, d)).toList());
        }
    }

    @Override
    public synchronized boolean update(String ns, Object id, Map<String, ?> set, Collection<String> unset) {
        BsonDocument before = current(ns, id);
        if (before == null) {
            return false;
        }
        TopLevelDiff change = TopLevelDiff.compute(before, DriverValues.bson(set), unset);
        if (change.isEmpty()) {
            return false;
        }
        // The server gets the document MongoDB would make, not the operators: mongo-java-server
        // does not order new fields as MongoDB does, and the source must hold what the oplog says.
        server.store(ns, change.after());
        server.log(List.of(OplogOp.update(ns, before.get("_id"), change.diff())));
        return true;
    }

    @Override
    public synchronized boolean replace(String ns, Object id, Document document) {
        BsonDocument before = current(ns, id);
        if (before == null) {
            return false;
        }
        BsonDocument after = withIdFirst(DriverValues.bson(document), before.get("_id"));
        if (TopLevelDiff.sameBytes(after, before)) {
            return false; // MongoDB skips a replacement with identical bytes, and logs nothing
        }
        server.store(ns, after);
        server.log(List.of(OplogOp.replace(ns, after)));
        return true;
    }

    @Override
    public synchronized boolean delete(String ns, Object id) {
        BsonDocument before = current(ns, id);
        if (before == null) {
            return false;
        }
        server.collection(ns).deleteOne(new BsonDocument("_id", before.get("_id")));
        server.log(List.of(OplogOp.delete(ns, before.get("_id"))));
        return true;
    }

    // ---------------------------------------------------------------- collections

    @Override
    public synchronized void createCollection(String ns) {
        createCollection(ns, new Document());
    }

    /** Creates a collection with options, logged in the order given (mongo-java-server has no capped collections, views or time series). */
    public synchronized void createCollection(String ns, Document options) {
        if (catalog.containsKey(ns)) {
            throw new IllegalStateException("collection already exists: " + ns);
        }
        BsonDocument opts = DriverValues.bson(options);
        server.create(ns, opts);
        SourceCollection c = SourceCollection.created(opts);
        catalog.put(ns, c);
        server.log(List.of(OplogOp.create(Namespaces.db(ns), Namespaces.collection(ns), c.uuid(), opts)));
    }

    @Override
    public synchronized boolean dropCollection(String ns) {
        if (!catalog.containsKey(ns)) {
            return false; // MongoDB answers "ns not found" and logs nothing
        }
        long records = server.collection(ns).countDocuments();
        server.collection(ns).drop();
        catalog.remove(ns);
        server.log(List.of(OplogOp.drop(Namespaces.db(ns), Namespaces.collection(ns), records)));
        return true;
    }

    /**
     * Renames a collection. Within a database MongoDB logs one renameCollection; across databases it
     * copies: create a temporary collection in the target database, build its indexes, insert every
     * document, rename it onto the target, drop the source. The server does the same steps, and
     * they are logged as MongoDB logs them.
     */
    public synchronized void renameCollection(String from, String to, boolean dropTarget) {
        SourceCollection source = catalog.get(from);
        if (source == null) {
            throw new IllegalStateException("source namespace does not exist: " + from);
        }
        if (from.equals(to) || (catalog.containsKey(to) && !dropTarget)) {
            throw new IllegalStateException("target namespace exists: " + to);
        }
        if (Namespaces.db(from).equals(Namespaces.db(to))) {
            server.rename(from, to, dropTarget);
            catalog.remove(to);
            catalog.put(to, catalog.remove(from));
            server.log(List.of(OplogOp.rename(from, to, dropTarget)));
            return;
        }
        String db = Namespaces.db(to);
        String temp = "tmp" + randomAlphanumerics(5) + ".renameCollection";
        String tempNs = db + "." + temp;
        SourceCollection copy = new SourceCollection(UUID.randomUUID(), source.options(), source.indexes());
        List<OplogOp> ops = new ArrayList<>();
        server.create(tempNs, source.options());
        ops.add(OplogOp.create(db, temp, copy.uuid(), withTemp(source.options())));
        for (BsonDocument spec : source.indexes().subList(1, source.indexes().size())) {
            server.createIndex(tempNs, spec);
            ops.add(OplogOp.createIndexes(db, temp, spec));
        }
        List<RawBsonDocument> documents = documents(from);
        server.insert(tempNs, documents);
        documents.forEach(d -> ops.add(OplogOp.insert(tempNs, d)));
        server.rename(tempNs, to, dropTarget);
        ops.add(OplogOp.rename(tempNs, to, dropTarget));
        server.collection(from).drop();
        ops.add(OplogOp.drop(Namespaces.db(from), Namespaces.collection(from), documents.size()));
        catalog.remove(from);
        catalog.put(to, copy);
        server.log(ops);
    }

    // ---------------------------------------------------------------- indexes

    /**
     * Creates an index. MongoDB builds it in one {@code createIndexes} entry on an empty collection
     * and in two phases ({@code startIndexBuild}, {@code commitIndexBuild}) on one with documents.
     */
    @Override
    public synchronized String createIndex(String ns, Document keys, Document options) {
        ensureCollection(ns);
        BsonDocument spec = IndexSpecs.spec(DriverValues.bson(keys), DriverValues.bson(options == null ? new Document() : options));
        String name = spec.getString("name").getValue();
        BsonDocument existing = catalog.get(ns).index(name);
        if (existing != null) {
            if (TopLevelDiff.sameBytes(existing, spec)) {
                return name; // an identical index: MongoDB does nothing
            }
            throw new IllegalStateException("index " + name + " exists on " + ns + " with different options");
        }
        server.createIndex(ns, spec);
        catalog.put(ns, catalog.get(ns).withIndex(spec));
        String db = Namespaces.db(ns);
        String coll = Namespaces.collection(ns);
        if (server.collection(ns).countDocuments() == 0) {
            server.log(List.of(OplogOp.createIndexes(db, coll, spec)));
        } else {
            UUID build = UUID.randomUUID();
            server.log(List.of(OplogOp.indexBuild("startIndexBuild", db, coll, build, spec),
                    OplogOp.indexBuild("commitIndexBuild", db, coll, build, spec)));
        }
        return name;
    }

    public synchronized void dropIndex(String ns, String name) {
        SourceCollection c = catalog.get(ns);
        BsonDocument spec = c == null ? null : c.index(name);
        if (spec == null || name.equals("_id_")) {
            throw new IllegalStateException("no droppable index " + name + " on " + ns);
        }
        server.collection(ns).dropIndex(name);
        catalog.put(ns, c.withoutIndex(name));
        server.log(List.of(OplogOp.dropIndex(Namespaces.db(ns), Namespaces.collection(ns), spec)));
    }

    // ---------------------------------------------------------------- reads

    /** The collections that exist, sorted. */
    public synchronized Set<String> namespaces() {
        return new TreeSet<>(catalog.keySet());
    }

    /** A collection's index specs as MongoDB reports them, {@code _id_} first. */
    public synchronized List<BsonDocument> indexes(String ns) {
        SourceCollection c = catalog.get(ns);
        return c == null ? List.of() : c.indexes().stream().map(BsonDocument::clone).toList();
    }

    /** Every document of a collection, exactly as stored. */
    public synchronized List<RawBsonDocument> documents(String ns) {
        return server.collection(ns).find().into(new ArrayList<>());
    }

    @Override
    public synchronized Optional<Document> find(String ns, Object id) {
        return Optional.ofNullable(server.documentCollection(ns).find(new BsonDocument("_id", DriverValues.bsonValue(id))).first());
    }

    @Override
    public synchronized Optional<Object> idAt(String ns, int skip) {
        return Optional.ofNullable(server.documentCollection(ns).find().skip(skip).limit(1).first()).map(d -> d.get("_id"));
    }

    @Override
    public synchronized void close() {
        server.close();
    }

    // ---------------------------------------------------------------- helpers

    /** MongoDB creates a missing collection on first insert or index, and logs that create first. */
    private void ensureCollection(String ns) {
        if (!catalog.containsKey(ns)) {
            createCollection(ns, new Document());
        }
    }

    private BsonDocument current(String ns, Object id) {
        return catalog.containsKey(ns) ? server.find(ns, DriverValues.bsonValue(id)) : null;
    }

    /** {@code _id} first, as MongoDB stores every document: the given one, else the document's, else a new ObjectId. */
    private static BsonDocument withIdFirst(BsonDocument doc, BsonValue id) {
        BsonValue own = doc.remove("_id");
        if (id != null && own != null && !TopLevelDiff.sameBytes(id, own)) {
            throw new IllegalArgumentException("the _id field is immutable");
        }
        BsonDocument out = new BsonDocument("_id", id != null ? id : own != null ? own : new BsonObjectId());
        out.putAll(doc);
        return out;
    }

    /** A temporary collection's options: the source's, with {@code temp: true} where MongoDB puts it (after the capped options). */
    private static BsonDocument withTemp(BsonDocument options) {
        Set<String> first = Set.of("clusteredIndex", "capped", "size", "max", "autoIndexId");
        BsonDocument out = new BsonDocument();
        options.forEach((k, v) -> {
            if (first.contains(k)) {
                out.put(k, v);
            }
        });
        out.put("temp", BsonBoolean.TRUE);
        options.forEach((k, v) -> {
            if (!first.contains(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** MongoDB names the temporary collection of a cross-database rename {@code tmp%%%%%.renameCollection}. */
    private static String randomAlphanumerics(int n) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        StringBuilder s = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            s.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return s.toString();
    }
}
