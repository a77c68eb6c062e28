package io.tidemark.groomer;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * One entry of the snapshot catalog as the groomer sees it: where it stands in its life and
 * what it pins.
 *
 * @param base the snapshot an in-flight entry deduplicates against: its blocks are referenced
 *     by the in-flight snapshot without being looked up or rewritten, so they stay marked
 * @param storedBytes compressed bytes this snapshot added to the block store (0 until complete)
 * @param parent the snapshot a delta builds on (null for a full one): it must outlive this one
 */
public record CatalogEntry(String id, String job, OpTime ts, Instant createdAt, State state, String base,
                           long storedBytes, String parent) {

    /** Where a catalog entry stands. */
    public enum State {
        /** Visible: listed, restorable, its blocks are live. */
        COMPLETE,
        /** Started and neither complete nor failed: running, or cut off by a crash. */
        IN_FLIGHT,
        /** An attempt that failed; never visible, its pages pin nothing. */
        FAILED,
        /** Hidden by the groomer on its way out (manifest and entry deleted next). */
        EXPIRED,
        /**
         * Dropped by retention but still the parent of a live delta: hidden from users, its
         * manifest and blocks kept until no live snapshot builds on it (see {@link SnapshotExpirer}).
         */
        CHAIN_BASE
    }

    /** An entry of a full snapshot (or one written before deltas). */
    public CatalogEntry(String id, String job, OpTime ts, Instant createdAt, State state, String base, long storedBytes) {
        this(id, job, ts, createdAt, state, base, storedBytes, null);
    }

    public CatalogEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(state, "state");
    }

    static CatalogEntry of(JsonObject e) {
        State state = e.getBoolean("expired", false) ? State.EXPIRED
                : e.getBoolean("chainBase", false) ? State.CHAIN_BASE
                : e.getBoolean("complete", false) ? State.COMPLETE
                : e.getBoolean("failed", false) ? State.FAILED
                : State.IN_FLIGHT;
        JsonObject ts = e.getJsonObject("ts");
        return new CatalogEntry(e.getString("_id"), e.getString("job"), ts == null ? null : OpTime.fromJson(ts),
                Instant.ofEpochMilli(e.getLong("createdAt", 0L)), state, e.getString("base"),
                e.getLong("storedBytes", 0L), e.getString("parent"));
    }

    public boolean complete() {
        return state == State.COMPLETE;
    }

    public boolean inFlight() {
        return state == State.IN_FLIGHT;
    }
}
