package io.tidemark.shared.store;

import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import com.mongodb.reactivestreams.client.MongoDatabase;
import reactor.core.publisher.Mono;

/**
 * The blockstore database: sync store, oplog store, and later blocks and manifests. Binary payloads
 * go through the reactive-streams driver with raw BSON so that megabytes of oplog are never
 * re-encoded as JSON.
 */
public final class BlockstoreDb implements AutoCloseable {

    private final MongoClient client;
    private final MongoDatabase db;
    private final OplogStore oplog;
    private final SyncStore sync;

    BlockstoreDb(StoreConnection at, String dbName) {
        // The write concern is the client's (StoreConnection): the URI's own, or majority with journal.
        this.client = MongoClients.create(at.driverSettings());
        this.db = client.getDatabase(dbName);
        this.oplog = new OplogStore(db);
        this.sync = new SyncStore(db);
    }

    Mono<Void> init() {
        return oplog.createIndexes().then(sync.createIndexes());
    }

    public OplogStore oplog() {
        return oplog;
    }

    public SyncStore sync() {
        return sync;
    }

    public MongoDatabase database() {
        return db;
    }

    @Override
    public void close() {
        client.close();
    }
}
