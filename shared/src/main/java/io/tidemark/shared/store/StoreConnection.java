package io.tidemark.shared.store;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.WriteConcern;
import io.vertx.core.json.JsonObject;

/**
 * How both clients of one store (the Vert.x client for metadata, the reactive-streams driver for
 * the blockstore) connect: the URI as the driver parses it, the write concern, and the embedded
 * store's credential. Settings are applied through the clients' own options, never by editing
 * the URI's text, which breaks on {@code mongodb+srv://} URIs and on passwords containing
 * {@code w=}.
 *
 * @param writeConcern the URI's own if it sets one, otherwise majority with journal for a
 *     replica set; null leaves the driver's default (the embedded store, a single node)
 * @param credential null when the URI carries its own (or none is needed)
 */
record StoreConnection(ConnectionString uri, WriteConcern writeConcern, MongoCredential credential) {

    /** Acknowledged means durable on a majority, unless the operator's URI says otherwise. */
    static final WriteConcern DURABLE = WriteConcern.MAJORITY.withJournal(true);

    static StoreConnection of(String uri, boolean majority, MongoCredential credential) {
        ConnectionString parsed = new ConnectionString(uri);
        WriteConcern own = parsed.getWriteConcern();
        return new StoreConnection(parsed, own != null ? own : majority ? DURABLE : null, credential);
    }

    String database(String fallback) {
        String db = uri.getDatabase();
        return db == null || db.isBlank() ? fallback : db;
    }

    /** For the reactive-streams driver. */
    MongoClientSettings driverSettings() {
        MongoClientSettings.Builder builder = MongoClientSettings.builder().applyConnectionString(uri);
        if (writeConcern != null) {
            builder.writeConcern(writeConcern);
        }
        if (credential != null) {
            builder.credential(credential);
        }
        return builder.build();
    }

    /** For the Vert.x Mongo client, whose JSON options map onto the same driver settings. */
    JsonObject vertxConfig(String dbName) {
        JsonObject config = new JsonObject()
                .put("connection_string", uri.getConnectionString())
                .put("db_name", dbName);
        if (writeConcern != null && uri.getWriteConcern() == null) {
            Object w = writeConcern.getWObject();
            config.put("w", w);
            if (writeConcern.getJournal() != null) {
                config.put("j", writeConcern.getJournal());
            }
        }
        if (credential != null) {
            config.put("username", credential.getUserName())
                    .put("password", new String(credential.getPassword()))
                    .put("authSource", credential.getSource())
                    .put("authMechanism", credential.getMechanism());
        }
        return config;
    }

    /** For logs: where, never who (a URI's user and password are percent-encoded, so "@" ends them). */
    @Override
    public String toString() {
        return uri.getCredential() == null ? uri.getConnectionString()
                : uri.getConnectionString().replaceFirst("//[^@/]*@", "//***@");
    }
}
