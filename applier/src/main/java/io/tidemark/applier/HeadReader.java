package io.tidemark.applier;

/**
 * All that the stages reading a head (snapshots, verification) see of it: where it is and
 * consistent {@link HeadView}s of it. They never write it and never close it; the applier owns it
 * and may close it at any time, after which {@link #openView()} and every open view's reads fail
 * with {@link HeadClosedException}.
 */
public interface HeadReader {

    /** The oplog position the head reflects now. */
    OplogPosition appliedPosition();

    /** A consistent, read-only view at the current position; close it when done. Blocking. */
    HeadView openView();
}
