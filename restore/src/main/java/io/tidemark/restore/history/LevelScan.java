package io.tidemark.restore.history;

import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.snapshots.DeltaRecords;
import java.util.Arrays;

/**
 * Looks for one head key in the records of one chain level, fed the level's blocks in order from
 * a record start: whole raw documents for a namespace stored whole, {@link DeltaRecords} for a
 * delta. Decides as soon as it meets the key, or (when the level is in key order) a greater key.
 * Holds at most the unread tail of one block plus the record being assembled.
 */
final class LevelScan {

    /** What a level says about the key. */
    enum Outcome { FOUND, DELETED, NOT_HERE }

    record Result(Outcome outcome, byte[] document) {
        static final Result NOT_HERE = new Result(Outcome.NOT_HERE, null);
        static final Result DELETED = new Result(Outcome.DELETED, null);
    }

    private final byte[] target;
    private final boolean delta;
    private final boolean ordered;
    private final String what;
    private byte[] buf = new byte[0];
    private int pos;
    private int limit;
    private int skip;

    /**
     * @param ordered whether the level's keys follow this build's key order, so a greater key ends the search
     * @param firstOffset where the first record starts in the first block fed
     */
    LevelScan(byte[] target, boolean delta, boolean ordered, int firstOffset, String what) {
        this.target = target;
        this.delta = delta;
        this.ordered = ordered;
        this.skip = firstOffset;
        this.what = what;
    }

    /** Feeds the next block; the result once decided, else null. */
    Result feed(byte[] block) {
        int from = Math.min(skip, block.length);
        skip -= from;
        int n = block.length - from;
        if (limit - pos + n > buf.length) {
            buf = Arrays.copyOfRange(buf, pos, pos + Math.max(limit - pos + n, 2 * (limit - pos)));
        } else {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
        }
        limit -= pos;
        pos = 0;
        System.arraycopy(block, from, buf, limit, n);
        limit += n;
        return parse();
    }

    /** The level's end: the key is not in it. */
    Result end() {
        if (limit > pos) {
            throw new IllegalStateException(what + ": a record cut short at the end of its blocks");
        }
        return Result.NOT_HERE;
    }

    private Result parse() {
        while (true) {
            int p = pos;
            byte[] key;
            boolean deleted = false;
            if (delta) {
                if (limit - p < DeltaRecords.HEADER_BYTES) {
                    return null;
                }
                byte tag = buf[p];
                int keyLength = intLe(buf, p + 1);
                if (tag != DeltaRecords.UPSERT && tag != DeltaRecords.DELETE || keyLength <= 0 || keyLength > 1 << 20) {
                    throw new IllegalStateException(what + ": a malformed delta record");
                }
                p += DeltaRecords.HEADER_BYTES;
                if (limit - p < keyLength) {
                    return null;
                }
                key = Arrays.copyOfRange(buf, p, p + keyLength);
                p += keyLength;
                deleted = tag == DeltaRecords.DELETE;
            } else {
                key = null;
            }
            int docStart = p;
            int docLength = 0;
            if (!deleted) {
                if (limit - p < 4) {
                    return null;
                }
                docLength = intLe(buf, p);
                if (docLength < 5 || docLength > 64 << 20) {
                    throw new IllegalStateException(what + ": a document of length " + docLength);
                }
                if (limit - p < docLength) {
                    return null;
                }
                if (key == null) {
                    key = HeadKeys.ofDocument(buf, p);
                }
            }
            pos = docStart + docLength;
            int c = HeadKeys.compare(key, target);
            if (c == 0) {
                return deleted ? Result.DELETED
                        : new Result(Outcome.FOUND, Arrays.copyOfRange(buf, docStart, docStart + docLength));
            }
            if (c > 0 && ordered) {
                return Result.NOT_HERE;
            }
        }
    }

    private static int intLe(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }
}
