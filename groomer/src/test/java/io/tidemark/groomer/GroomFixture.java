package io.tidemark.groomer;

import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.EmbeddedMongo;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** One in-process MongoDB with the stores over it, a filesystem block store and a clock tests move. */
final class GroomFixture implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    final EmbeddedMongo mongo = EmbeddedMongo.inMemoryWithOplog();
    final Vertx vertx = VertxFactory.create();
    final Scheduler cpu = Schedulers.newParallel("test-groom-cpu", 2);
    final Scheduler io = Schedulers.newBoundedElastic(8, 1000, "test-groom-io");
    final TestClock clock = new TestClock(Instant.now());
    final TidemarkConfig config;
    final Stores stores;
    final ManifestStore manifests;
    final SnapshotCatalog catalog;

    GroomFixture(Path dataDir, Map<String, String> env) {
        Map<String, String> all = new HashMap<>(Map.of(
                "TIDEMARK_DATADIR", dataDir.toString(),
                "TIDEMARK_MONGODB_METADATAURI", mongo.uri() + "/meta",
                "TIDEMARK_MONGODB_BLOCKSTOREURI", mongo.uri() + "/blockstore"));
        all.putAll(env);
        config = ConfigLoader.load(null, all);
        stores = await(Stores.open(vertx, config));
        manifests = new ManifestStore(stores.blockstore().database());
        catalog = new SnapshotCatalog(stores.metadata());
    }

    FencedBlockStore blockStore(Path dir) {
        // No clock-step margin: grooms in a test follow each other within milliseconds.
        return new FencedBlockStore(new FilesystemBlockStore(dir.resolve("blocks-" + System.nanoTime()), io),
                new BlockFence(20, 0));
    }

    Groomer groomer(FencedBlockStore blocks) {
        return new Groomer(config, stores, blocks, clock);
    }

    SnapshotChecker checker(FencedBlockStore blocks) {
        return new SnapshotChecker(blocks, manifests, new CatalogEntries(stores.metadata()));
    }

    /** A job in {@code ACTIVE} whose head is built and has applied up to {@code applied}. */
    String activeJob(String name, OpTime syncStart, OpTime syncEnd, OpTime applied) {
        String job = await(stores.jobs().register(name)).getString("_id");
        await(stores.jobs().set(job, new JsonObject().put("state", "ACTIVE")
                .put("sync", new JsonObject().put("generation", 1L).put("complete", true)
                        .put("startTs", syncStart.toJson()).put("endTs", syncEnd.toJson()))
                .put("appliedTs", applied.toJson())));
        return job;
    }

    static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stores.close();
        await(vertx.close());
        cpu.dispose();
        io.dispose();
        mongo.close();
    }

    /** A clock the test sets. */
    static final class TestClock extends Clock {
        private volatile Instant now;

        TestClock(Instant now) {
            this.now = now;
        }

        void set(Instant t) {
            now = t;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
