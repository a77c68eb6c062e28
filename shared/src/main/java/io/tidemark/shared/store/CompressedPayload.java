package io.tidemark.shared.store;

import io.tidemark.shared.bson.Zstd;

/**
 * A payload compressed for the oplog or sync store. Compressing megabytes is CPU work that no
 * event loop may do, so callers on one make it on a worker ({@link #of}) and hand it to the
 * store, which then only writes.
 */
public final class CompressedPayload {

    final int rawBytes;
    final byte[] data;

    private CompressedPayload(int rawBytes, byte[] data) {
        this.rawBytes = rawBytes;
        this.data = data;
    }

    /** Compresses {@code raw}; call it on a worker thread. */
    public static CompressedPayload of(byte[] raw) {
        return new CompressedPayload(raw.length, Zstd.compress(raw));
    }
}
