package io.tidemark.deploy;

import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.daemons.DaemonRegistry;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Refuses, at start, a block store that not every daemon and front end reaches. The packed and
 * filesystem stores are one process's files: with several processes, snapshots taken by one
 * daemon would be unreadable by the front end restoring them and by the daemon that takes the job
 * over. So a process with one role, or a daemon that finds another live daemon, needs the
 * blockstore DB's {@code blocks} ({@code blockstore.type: mongodb}).
 */
final class SharedBlocks {

    static final String SETTING = "set blockstore.type: mongodb (the blockstore DB's 'blocks' collection, "
            + "TIDEMARK_BLOCKSTORE_TYPE=mongodb) on every daemon and front end";

    private SharedBlocks() {
    }

    /** For a process with a single role: its blocks must be shared ones. */
    static void requireShared(TidemarkConfig config, Roles roles) {
        String type = config.blockstoreType();
        if (!"mongodb".equals(type) && !roles.all()) {
            throw new IllegalStateException("a '--roles " + roles + "' process cannot use the " + type + " block store: "
                    + "it is one process's files, and blocks must live where every daemon and front end reaches them; " + SETTING);
        }
    }

    /** For a daemon: no other live daemon may make this one's, or its own, blocks unreachable. */
    static Future<Void> checkOthers(TidemarkConfig config, DaemonRegistry registry, String me) {
        String type = config.blockstoreType();
        long aliveMillis = config.daemons().leaseSeconds() * 1000L;
        return registry.list().compose(daemons -> {
            long now = System.currentTimeMillis();
            List<JsonObject> others = daemons.stream()
                    .filter(d -> !me.equals(d.getString("_id")) && now - d.getLong("heartbeatAt", 0L) <= aliveMillis).toList();
            if (!"mongodb".equals(type) && !others.isEmpty()) {
                return Future.failedFuture(new IllegalStateException("daemon " + others.get(0).getString("_id")
                        + " also runs against this metadata DB, and the " + type + " block store is one process's files; " + SETTING));
            }
            for (JsonObject d : others) {
                String theirs = d.getString("blockstore", "mongodb");
                if (!"mongodb".equals(theirs)) {
                    return Future.failedFuture(new IllegalStateException("daemon " + d.getString("_id") + " keeps its blocks in its own "
                            + theirs + " store, which no other daemon reaches; " + SETTING + ", then start this one"));
                }
            }
            return Future.succeededFuture();
        });
    }
}
