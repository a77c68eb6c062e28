package io.tidemark.applier;

import io.tidemark.shared.oplog.OpTime;

/**
 * All that the stages reading a head (snapshots, verification) see of it: where it is and
 * consistent {@link HeadView}s of it. They never write it and never close it; the applier owns it
 * and may close it at any time, after which {@link #openView()} and every open view's reads fail
 * with {@link HeadClosedException}.
 */
public interface HeadReader {

    /** The oplog position the head reflects now. */
    OpTime appliedPosition();

    /** A consistent, read-only view at the current position; close it when done. Blocking. */
    HeadView openView();

    /**
     * The encoding of the head's document keys, which fixes the order in which {@link HeadView}
     * cursors return documents: manifests record it so that a delta chain never spans two
     * encodings. Always {@link DocumentKeys#ENCODING} once the head is open (older heads are
     * migrated on open).
     */
    default int keyEncoding() {
        return DocumentKeys.ENCODING;
    }

    /**
     * A snapshot cut from a view of this head ({@link HeadView#incarnation()},
     * {@link HeadView#modificationSeq()}) is durably complete: the head may forget the changes it
     * holds. Blocking. Skipping it is always safe (the next delta is only larger).
     */
    default void snapshotCompleted(String incarnation, long modificationSeq) {
    }
}
