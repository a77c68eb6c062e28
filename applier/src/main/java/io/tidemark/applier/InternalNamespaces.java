package io.tidemark.applier;

/**
 * Namespaces a head does not keep.
 *
 * <ul>
 *   <li>{@code local.*}: per-node state (the oplog itself, replset config, startup log), never
 *       replicated and meaningless on another deployment.</li>
 *   <li>{@code *.system.profile}: per-node profiler output, not replicated.</li>
 *   <li>In {@code config}: session and retryable-write bookkeeping ({@code system.sessions},
 *       {@code transactions}, {@code image_collection}), in-flight index build state
 *       ({@code system.indexBuilds}), change-stream storage ({@code system.preimages},
 *       {@code system.change_collection}) and the shard routing cache ({@code cache.*}). All of it
 *       is rebuilt by the server and would be stale or harmful after a restore.</li>
 * </ul>
 *
 * <p>Everything else is kept, including the rest of {@code config} (on a config server it holds
 * the sharded cluster's metadata, which a restore needs) and {@code admin.system.*} (users, roles,
 * the auth schema version and signing keys: a faithful backup has them; the restore decides which
 * to emit).
 */
final class InternalNamespaces {
    private InternalNamespaces() {
    }

    static boolean isSkipped(String db, String collection) {
        if (db.equals("local")) {
            return true;
        }
        if (collection.equals("system.profile")) {
            return true;
        }
        if (db.equals("config")) {
            return switch (collection) {
                case "system.sessions", "transactions", "image_collection", "system.indexBuilds",
                     "system.preimages", "system.change_collection" -> true;
                default -> collection.startsWith("cache.");
            };
        }
        return false;
    }

    /** For a {@code db.collection} string; a string without a dot is a database, never skipped here. */
    static boolean isSkipped(String ns) {
        int dot = ns.indexOf('.');
        if (dot < 0) {
            return ns.equals("local");
        }
        return isSkipped(ns.substring(0, dot), ns.substring(dot + 1));
    }
}
