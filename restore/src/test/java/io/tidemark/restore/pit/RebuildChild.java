package io.tidemark.restore.pit;

import io.tidemark.restore.rebuild.HeadRebuilds;
import io.tidemark.restore.rebuild.RebuildProgress;
import io.tidemark.shared.blocks.FilesystemBlockStore;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.scheduler.Schedulers;

/**
 * A head rebuild in a process of its own, for {@link HeadRebuildCrashTest} to kill: args are the
 * store's URI, the block store's directory, a data directory, the job and the target head. Says
 * {@code LOADING} once the first snapshot bytes are in the staging head, then loads slowly.
 */
public final class RebuildChild {

    private RebuildChild() {
    }

    public static void main(String[] args) throws Exception {
        Vertx vertx = VertxFactory.create();
        TidemarkConfig config = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", args[2],
                "TIDEMARK_MONGODB_METADATAURI", args[0] + "/meta", "TIDEMARK_MONGODB_BLOCKSTOREURI", args[0] + "/blockstore"));
        Stores stores = Stores.open(vertx, config).toCompletionStage().toCompletableFuture().get();
        HeadRebuilds rebuilds = new HeadRebuilds(stores, new FilesystemBlockStore(Path.of(args[1]), Schedulers.boundedElastic()));
        AtomicBoolean said = new AtomicBoolean();
        rebuilds.rebuild(args[3], Path.of(args[4]), new RebuildProgress() {
            @Override
            public void loaded(long bytes) {
                if (said.compareAndSet(false, true)) {
                    System.out.println("LOADING");
                    System.out.flush();
                }
                try {
                    Thread.sleep(200); // slow enough to be killed mid-load
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }).block(Duration.ofMinutes(5));
        System.out.println("DONE");
        System.exit(0);
    }
}
