package io.tidemark.shared.daemons;

import io.tidemark.shared.http.ApiException;
import io.vertx.core.json.JsonObject;

/**
 * The answer of a process asked for something only the job's daemon can do (its head's hashes,
 * a snapshot, a groom) when the job is not run here: 409 naming the daemon that owns it, so the
 * operator asks the node running that daemon (docs/scale-out.md, "What runs where").
 */
public final class JobOwners {

    private JobOwners() {
    }

    /** The answer for a snapshot or groom asked of a job that is moving away from this daemon. */
    public static ApiException moving(JsonObject jobDoc, String what) {
        JobMoves.Move m = JobMoves.Move.of(jobDoc);
        String job = jobDoc.getString("_id");
        return new ApiException(409, what + " of job " + job + " waits: the job is moving"
                + (m == null ? "" : " to daemon " + m.to()) + " and no snapshot or groom of it starts until the move ends"
                + " ('tidemark jobs list' shows its progress)", new JsonObject().put("job", job));
    }

    public static ApiException notHere(JsonObject jobDoc, String what) {
        JobBindings.Binding b = JobBindings.Binding.of(jobDoc);
        String job = jobDoc.getString("_id");
        JsonObject details = new JsonObject().put("job", job);
        if (b == null) {
            return new ApiException(409, what + " of job " + job + ": the job is not bound to a daemon yet; try again shortly", details);
        }
        details.put("owner", b.daemon()).put("epoch", b.epoch());
        return new ApiException(409, what + " of job " + job + " runs on daemon " + b.daemon()
                + ", not in this process; ask a front end of the node that runs that daemon ('tidemark daemons list')", details);
    }
}
