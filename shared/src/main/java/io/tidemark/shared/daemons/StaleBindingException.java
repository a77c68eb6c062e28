package io.tidemark.shared.daemons;

import io.tidemark.shared.http.ApiException;

/**
 * A write for a job refused because this process no longer holds the job's binding at the epoch
 * it wrote with: another daemon owns the job now (or the lease could not be renewed in time).
 */
public final class StaleBindingException extends ApiException {

    public StaleBindingException(String message) {
        super(409, message);
    }

    /** Whether {@code e}, or what it wraps, is this refusal. */
    public static boolean is(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StaleBindingException) {
                return true;
            }
        }
        return false;
    }
}
