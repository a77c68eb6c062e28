package io.tidemark.shared.daemons;

import io.vertx.core.json.JsonObject;

/**
 * Event-bus addresses of the requests only a job's daemon can serve (a snapshot, a groom, a check).
 * Each daemon serves them at an address of its own as well as at the shared one (which event-bus
 * clients may keep using), and a front end sends to the address of the daemon the job's binding
 * names. On a clustered bus an address every daemon shared would be
 * round-robined across them, so most requests would reach a daemon that does not hold the job and
 * could only refuse it.
 */
public final class JobAddresses {

    private JobAddresses() {
    }

    /**
     * Where to send {@code base} for the job: its owner's address. A job not bound yet goes to
     * {@code base}, which every daemon (and a sole writer) also serves: whichever answers, a
     * daemon that does not hold the job says so ({@link JobOwners#notHere}).
     */
    public static String forJob(String base, JsonObject jobDoc) {
        JobBindings.Binding b = JobBindings.Binding.of(jobDoc);
        return b == null ? base : ofDaemon(base, b.daemon());
    }

    /** The address at which {@code daemon} serves {@code base} for the jobs it holds. */
    public static String ofDaemon(String base, String daemon) {
        return base + "@" + daemon;
    }
}
