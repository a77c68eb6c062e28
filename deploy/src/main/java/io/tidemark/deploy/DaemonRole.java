package io.tidemark.deploy;

import io.tidemark.applier.ApplierVerticle;
import io.tidemark.groomer.FencedBlockStore;
import io.tidemark.groomer.GroomerVerticle;
import io.tidemark.restore.rebuild.HeadRebuilds;
import io.tidemark.restore.rebuild.MoveArrivals;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.daemons.DaemonHeartbeat;
import io.tidemark.shared.daemons.DaemonId;
import io.tidemark.shared.daemons.DaemonRegistry;
import io.tidemark.shared.daemons.HeldBindings;
import io.tidemark.shared.store.Stores;
import io.tidemark.snapshotter.SnapshotterVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

import java.time.Clock;

/**
 * The daemon's parts of a server process: its id and registry entry, the bindings it holds, and
 * the heads, snapshots and grooms of those jobs.
 */
final class DaemonRole {

    private static final Logger LOG = LoggerFactory.getLogger(DaemonRole.class);

    private final Vertx vertx;
    private final TidemarkConfig config;
    private final Stores stores;
    private String id;
    private HeldBindings bindings;
    private DaemonHeartbeat heartbeat;
    private ApplierVerticle applier;
    private BlockStore blocks;
    /** The head rebuilds (and the heads moves prepare), once the block store they read is open. */
    private final Sinks.One<MoveArrivals> arrivals = Sinks.one();
    private MoveArrivals moveArrivals;

    private DaemonRole(Vertx vertx, TidemarkConfig config, Stores stores) {
        this.vertx = vertx;
        this.config = config;
        this.stores = stores;
    }

    static Future<DaemonRole> start(Vertx vertx, TidemarkConfig config, Stores stores) {
        DaemonRole role = new DaemonRole(vertx, config, stores);
        return role.deploy().map(role);
    }

    private Future<Void> deploy() {
        DaemonRegistry registry = new DaemonRegistry(stores.metadata());
        return vertx.executeBlocking(() -> DaemonId.readOrCreate(config.dataPath())).compose(daemonId -> {
            id = daemonId;
            return SharedBlocks.checkOthers(config, registry, id);
        }).compose(v -> {
            bindings = new HeldBindings(vertx, stores.metadata(), id, config.daemons());
            heartbeat = new DaemonHeartbeat(vertx, registry, bindings, config.headsPath(),
                    new JsonObject().put("blockstore", config.blockstoreType()), config.daemons().heartbeatSeconds());
            // Registered before any job is claimed, so that every daemon's binding rule sees it.
            return heartbeat.start();
        }).compose(v -> {
            // A head whose sync data is gone (a lost head, a job moved here) is rebuilt from the job's
            // latest snapshot plus the oplog store; that needs the block store, opened just below.
            applier = new ApplierVerticle(config, stores, bindings)
                    .rebuildingWith((job, dir) -> arrivals.asMono().flatMap(a -> a.rebuildOrArrive(job, dir)));
            bindings.onLost(applier::release);
            // Heads do blocking RocksDB work on their own threads; the verticle only coordinates.
            return vertx.deployVerticle(applier);
        }).compose(v -> vertx.executeBlocking(() -> {
            // Snapshots and grooms share one fenced store: a sweep never deletes a block that a
            // running snapshot has just found and is about to reference. Opening the store reads
            // its directory and pack indexes, and the fence allocates its filter: on a worker.
            blocks = FencedBlockStore.wrap(BlockStores.open(config, stores, Schedulers.boundedElastic()));
            moveArrivals = new MoveArrivals(config.headsPath(), stores, new HeadRebuilds(stores, blocks), bindings, applier);
            arrivals.tryEmitValue(moveArrivals);
            return null;
        })).compose(v -> vertx.deployVerticle(new SnapshotterVerticle(config, stores, applier, blocks, bindings)))
                .compose(v -> vertx.deployVerticle(new GroomerVerticle(config, stores, blocks, Clock.systemUTC(), bindings)))
                // Jobs moved here by an operator or a drain (docs/scale-out.md, "Moving jobs").
                .compose(v -> vertx.deployVerticle(moveArrivals))
                .map(v -> {
                    bindings.start();
                    LOG.info("daemon {} up: heads under {}, blocks in the {} store, leases of {} s", id, config.headsPath(),
                            config.blockstoreType(), config.daemons().leaseSeconds());
                    return null;
                });
    }

    String id() {
        return id;
    }

    ApplierVerticle applier() {
        return applier;
    }

    /** The block store, fenced against sweeps; null until started. */
    BlockStore blocks() {
        return blocks;
    }

    /** Stops renewing and beating before the verticles go, so nothing is written for a job after. */
    void stop() {
        if (heartbeat != null) {
            heartbeat.stop();
        }
        if (bindings != null) {
            bindings.stop();
        }
    }
}
