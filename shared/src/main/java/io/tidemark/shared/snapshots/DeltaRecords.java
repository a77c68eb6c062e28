package io.tidemark.shared.snapshots;

/**
 * The byte format of a delta namespace's blocks: its records concatenated in head key order, each
 * <pre>
 *   tag (1 byte) | key length (int32 little-endian) | head key | the document's raw BSON (upserts only)
 * </pre>
 * with tag {@link #UPSERT} (the document as it is at the snapshot: inserted or changed since the
 * parent) or {@link #DELETE} (the key's document was deleted). The key is carried so that a
 * restore merges levels by comparing keys the head produced, never by re-deriving them from a
 * delta; only a full base's documents have their keys computed, through the head's encoding.
 */
public final class DeltaRecords {
    public static final byte UPSERT = 1;
    public static final byte DELETE = 2;
    /** Tag and key length. */
    public static final int HEADER_BYTES = 5;

    private DeltaRecords() {
    }

    /** Writes a record's header at {@code off} of {@code b} (which has room for it). */
    public static void writeHeader(byte[] b, int off, byte tag, int keyLength) {
        b[off] = tag;
        b[off + 1] = (byte) keyLength;
        b[off + 2] = (byte) (keyLength >>> 8);
        b[off + 3] = (byte) (keyLength >>> 16);
        b[off + 4] = (byte) (keyLength >>> 24);
    }
}
