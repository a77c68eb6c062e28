package io.tidemark.deploy;

import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.UpdateOptions;

/**
 * Refuses, at start, a block store other than the one this deployment's snapshots were written
 * to. The first process to start records its block store type in the metadata DB; every later
 * one must use the same. Otherwise a server restarted with another setting (the default
 * {@code auto} picks the packed store on the embedded store, while several daemons need the
 * blockstore DB's {@code blocks}) would report every block of every snapshot missing, fail every
 * restore, and write new snapshots where the earlier ones are not.
 */
final class BlockStoreOfRecord {

    static final String COLLECTION = "settings";
    private static final String ID = "blockstore";

    private BlockStoreOfRecord() {
    }

    static Future<Void> check(TidemarkConfig config, Stores stores) {
        String type = config.blockstoreType();
        JsonObject id = new JsonObject().put("_id", ID);
        // Recorded by whichever process comes first; then read back, so that two first starts agree.
        return stores.metadata().updateCollectionWithOptions(COLLECTION, id, new JsonObject().put("$setOnInsert",
                        new JsonObject().put("type", type).put("recordedAt", System.currentTimeMillis())), new UpdateOptions().setUpsert(true))
                .compose(r -> stores.metadata().findOne(COLLECTION, id, null))
                .compose(record -> {
                    String recorded = record == null ? type : record.getString("type", type);
                    if (recorded.equals(type)) {
                        return Future.succeededFuture();
                    }
                    String why = "auto".equals(config.blockstore().type())
                            ? " (blockstore.type: auto picks the " + type + " store " + (config.mongodb().blockstoreUri().isBlank()
                                    ? "when mongodb.blockstoreUri is empty" : "when mongodb.blockstoreUri is set") + ")"
                            : "";
                    return Future.failedFuture(new IllegalStateException("this deployment's snapshots keep their blocks in the "
                            + recorded + " store (recorded in the metadata DB's '" + COLLECTION + "' when it first started), but this"
                            + " process would use the " + type + " store" + why + ": every snapshot would read as missing blocks and new"
                            + " ones would go elsewhere. Set blockstore.type: " + recorded + " (TIDEMARK_BLOCKSTORE_TYPE=" + recorded + ")"));
                });
    }
}
