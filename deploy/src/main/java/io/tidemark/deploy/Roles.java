package io.tidemark.deploy;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What a server process runs: the front end (REST API on 8080, Backup HTTP service on 8081), the
 * daemon (heads, snapshots, point-in-time builds, grooms), or both. A process with both roles also
 * runs the embedded store when no URI is configured; a process with one role joins another's
 * (docs/scale-out.md).
 */
record Roles(boolean frontend, boolean daemon) {

    static final Roles ALL = new Roles(true, true);

    /** {@code frontend}, {@code daemon}, or both separated by a comma. */
    static Roles parse(String text) {
        Set<String> names = new LinkedHashSet<>(Arrays.asList(text.trim().split("\\s*,\\s*")));
        boolean frontend = names.remove("frontend");
        boolean daemon = names.remove("daemon");
        if (!names.isEmpty() || !(frontend || daemon)) {
            throw new CliException("--roles takes frontend, daemon or frontend,daemon, not '" + text + "'");
        }
        return new Roles(frontend, daemon);
    }

    boolean all() {
        return frontend && daemon;
    }

    @Override
    public String toString() {
        return all() ? "frontend,daemon" : frontend ? "frontend" : "daemon";
    }
}
