package io.tidemark.restore;

import io.tidemark.shared.oplog.OpTime;
import reactor.core.publisher.Mono;

import java.time.Instant;

/**
 * Opens point-in-time restore sources: a job's data exactly as it was at an oplog position inside
 * its {@link PitWindow}. Targets outside the window, or that the oplog store cannot reach without
 * a gap, fail with an {@code ApiException} (409/422) whose message states the available range.
 */
public interface PointInTimeSources {

    /**
     * A source at {@code target} (inclusive: every entry at or before it is applied). The caller
     * must close it; closing removes the temporary head it was built in.
     */
    Mono<RestoreSource> open(String job, OpTime target);

    /** The range {@link #open} accepts for the job now. */
    Mono<PitWindow> window(String job);

    /**
     * The oplog position a wall-clock target maps to: the last entry at or before that second
     * (every entry of that second included), judged by the entries' {@code wall} field where they
     * have one. Refused like {@link #open} when outside the window.
     */
    Mono<OpTime> positionAt(String job, Instant wallClock);
}
