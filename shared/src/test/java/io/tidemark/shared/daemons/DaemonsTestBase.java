package io.tidemark.shared.daemons;

import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Daemons' bindings on a real (embedded) store: the stores, and daemons and jobs to put in them. */
abstract class DaemonsTestBase {

    @TempDir
    Path tmp;

    EmbeddedMongo mongo;
    Vertx vertx;
    Stores stores;
    TidemarkConfig config;

    @BeforeEach
    void openStores() {
        mongo = EmbeddedMongo.inMemoryWithOplog();
        vertx = VertxFactory.create();
        config = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", tmp.toString(),
                "TIDEMARK_MONGODB_METADATAURI", mongo.uri() + "/meta", "TIDEMARK_MONGODB_BLOCKSTOREURI", mongo.uri() + "/bs",
                "TIDEMARK_DAEMONS_LEASESECONDS", "60", "TIDEMARK_DAEMONS_RENEWSECONDS", "1"));
        stores = await(Stores.open(vertx, config));
    }

    @AfterEach
    void closeStores() {
        stores.close();
        await(vertx.close());
        mongo.close();
    }

    /** A registered daemon with that much free head space, and its bindings. */
    HeldBindings daemon(String id, long freeBytes) {
        await(new DaemonRegistry(stores.metadata()).heartbeat(id, new JsonObject().put("headFreeBytes", freeBytes)));
        return new HeldBindings(vertx, stores.metadata(), id, config.daemons());
    }

    /** A new ACTIVE job with an applied position; its id. */
    String job(String name) {
        String id = await(stores.jobs().register(name)).getString("_id");
        await(stores.jobs().set(id, new JsonObject().put("state", "ACTIVE").put("appliedTs", new JsonObject().put("t", 5).put("i", 1))));
        return id;
    }

    JsonObject doc(String job) {
        return await(stores.jobs().find(job));
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
