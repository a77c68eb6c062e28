package io.tidemark.shared.oplog;

/**
 * Which namespaces Tidemark backs up: one rule for the agent's initial sync, the head's oplog
 * application and verification, so that no stage keeps what another dropped.
 *
 * <p>Not backed up:
 * <ul>
 *   <li>{@code local.*}: per-node state (the oplog itself, replica-set config, startup log), never
 *       replicated and meaningless on another deployment.</li>
 *   <li>{@code *.system.profile}: per-node profiler output, not replicated.</li>
 *   <li>In {@code config}: session and retryable-write bookkeeping ({@code system.sessions},
 *       {@code transactions}, {@code image_collection}), in-flight index builds
 *       ({@code system.indexBuilds}), change-stream storage ({@code system.preimages},
 *       {@code system.change_collection}) and the shard routing cache ({@code cache.*}): the server
 *       rebuilds all of it, and it would be stale or harmful after a restore.</li>
 * </ul>
 *
 * <p>Everything else is, including the rest of {@code config} (on a config server it holds the
 * sharded cluster's metadata) and {@code admin.system.*} (users, roles, the auth schema version:
 * a faithful backup has them; a restore decides which to emit).
 */
public final class BackedUpNamespaces {

    private BackedUpNamespaces() {
    }

    public static boolean isBackedUp(String db, String collection) {
        if (db.equals("local") || collection.equals("system.profile")) {
            return false;
        }
        if (db.equals("config")) {
            return switch (collection) {
                case "system.sessions", "transactions", "image_collection", "system.indexBuilds",
                     "system.preimages", "system.change_collection" -> false;
                default -> !collection.startsWith("cache.");
            };
        }
        return true;
    }
}
