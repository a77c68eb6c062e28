package io.tidemark.restore.rebuild;

/**
 * Hears how a head rebuild advances. Called on the rebuild's own threads, never an event loop;
 * keep it quick (a counter, a volatile field).
 */
public interface RebuildProgress {

    RebuildProgress NONE = new RebuildProgress() {
    };

    /** {@code bytes} more bytes of the snapshot's documents are in the new head. */
    default void loaded(long bytes) {
    }

    /** {@code entries} more stored oplog entries were applied to it. */
    default void replayed(long entries) {
    }
}
