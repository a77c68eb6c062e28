package io.tidemark.restore.push;

/** Told after every acknowledged insert batch: totals so far. Called from driver threads; must not block. */
@FunctionalInterface
public interface PushProgress {
    PushProgress NONE = (namespace, bytes, documents) -> { };

    void update(String namespace, long bytes, long documents);
}
