package io.tidemark.restore;

/**
 * Where a restore job is. A download restore goes READY → STREAMING → DELIVERED or FAILED (or
 * READY → EXPIRED when nobody fetches its link in time); a pushed one starts PENDING.
 */
public enum RestoreState {
    /** Accepted, waiting to run (a push that has not started). */
    PENDING,
    /** The download link works; nobody has used it yet. */
    READY,
    /** The link has been used and the artifact is on its way. */
    STREAMING,
    /** Every byte of the artifact was handed to the client (or the target). */
    DELIVERED,
    /** The restore stopped; {@code error} says why. */
    FAILED,
    /** The link's time ran out before anyone used it. */
    EXPIRED;

    public boolean terminal() {
        return this == DELIVERED || this == FAILED || this == EXPIRED;
    }
}
