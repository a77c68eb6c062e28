package io.tidemark.shared.store;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCredential;
import com.mongodb.WriteConcern;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeUnit;

/**
 * How both clients of one store (the Vert.x client for metadata, the reactive-streams driver for
 * the blockstore) connect: the URI as the driver parses it, the write concern, and the embedded
 * store's credential. Settings are applied through the clients' own options, never by editing
 * the URI's text: a substring test for {@code w=} is fooled by a password that contains it (and
 * writes then go unreplicated), and appending options by hand mis-places them in
 * {@code mongodb+srv://} URIs without a path.
 *
 * @param writeConcern for a replica set, the URI's own options where it sets them and majority
 *     with journal for the rest; for the embedded store (a single node) the URI's own or null,
 *     the driver's default
 * @param credential null when the URI carries its own (or none is needed)
 */
record StoreConnection(ConnectionString uri, WriteConcern writeConcern, MongoCredential credential) {

    /** Acknowledged means durable on a majority, unless the operator's URI says otherwise. */
    static final WriteConcern DURABLE = WriteConcern.MAJORITY.withJournal(true);

    static StoreConnection of(String uri, boolean majority, MongoCredential credential) {
        ConnectionString parsed = new ConnectionString(uri);
        return new StoreConnection(parsed, writeConcern(parsed.getWriteConcern(), majority), credential);
    }

    /** What the URI sets wins, option by option; what it leaves out is majority with journal. */
    private static WriteConcern writeConcern(WriteConcern own, boolean majority) {
        if (!majority) {
            return own;
        }
        if (own == null) {
            return DURABLE;
        }
        WriteConcern merged = own.getWObject() != null ? own : WriteConcern.MAJORITY.withJournal(own.getJournal());
        if (merged.getJournal() == null) {
            merged = merged.withJournal(true);
        }
        Integer timeout = own.getWTimeout(TimeUnit.MILLISECONDS);
        return timeout == null ? merged : merged.withWTimeout(timeout, TimeUnit.MILLISECONDS);
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
        // The client's own keys take precedence over the URI's, so they carry the merged result.
        if (writeConcern != null && writeConcern.getWObject() != null) {
            config.put("w", writeConcern.getWObject());
            if (writeConcern.getJournal() != null) {
                config.put("j", writeConcern.getJournal());
            }
            Integer timeout = writeConcern.getWTimeout(TimeUnit.MILLISECONDS);
            if (timeout != null) {
                config.put("wtimeoutMS", timeout);
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
