package io.tidemark.snapshotter;

import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.snapshots.BlockStart;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The key index of one namespace's blocks ({@link BlockStart}), built while the namespace is
 * written: the input records where each record starts in its byte stream and its head key, and
 * each block reference, as the writer hands them out in stream order, takes the first start
 * inside its bytes.
 *
 * <p>The input is read ahead of the references by the writer's bounded read-ahead only (a
 * reference comes out once its bytes were read and cut), so the queue holds the starts of a few
 * MB of records whatever the namespace size. Starts are added on the reading thread and taken on
 * the thread that emits references: hence the concurrent queue; the reference side is sequential
 * (one signal at a time), so its running offset needs no more.
 */
final class RecordStarts {
    private record Start(long offset, byte[] key) {
    }

    private final ConcurrentLinkedQueue<Start> queue = new ConcurrentLinkedQueue<>();
    private long blockStart;

    // ---------------------------------------------------------------- the reading side

    /** Stream offset of the next whole document in {@link #scan}'s stream, and a length cut between reads. */
    private long next;
    private long streamPos;
    private final byte[] lengthBytes = new byte[4];
    private int lengthHave;
    private boolean lost;

    /** Records a start whose key is known (a delta record carries its key). */
    void add(long streamOffset, byte[] key) {
        queue.add(new Start(streamOffset, key));
    }

    /**
     * Finds the documents that start in {@code b[off, off + n)}, the next bytes of a stream of
     * concatenated raw BSON documents, and records those read whole. A document cut by the read's
     * end is stepped over by its length without a key: its block then indexes a later record, or
     * none, which only makes a lookup start one block earlier.
     */
    void scan(byte[] b, int off, int n) {
        int limit = off + n;
        while (!lost) {
            int length;
            int p;
            if (lengthHave > 0) {
                int k = Math.min(4 - lengthHave, n);
                System.arraycopy(b, off, lengthBytes, lengthHave, k);
                lengthHave += k;
                if (lengthHave < 4) {
                    break;
                }
                lengthHave = 0;
                length = intLe(lengthBytes, 0);
                p = -1;
            } else {
                if (next >= streamPos + n) {
                    break;
                }
                p = off + (int) (next - streamPos);
                if (p + 4 > limit) {
                    lengthHave = limit - p;
                    System.arraycopy(b, p, lengthBytes, 0, lengthHave);
                    break;
                }
                length = intLe(b, p);
            }
            if (length < 5) {
                lost = true; // not a document stream: index nothing more rather than wrong offsets
                break;
            }
            if (p >= 0 && p + length <= limit) {
                try {
                    add(next, HeadKeys.ofDocument(b, p));
                } catch (RuntimeException noId) {
                    // a document the head stored without a readable _id: no index entry for it
                }
            }
            next += length;
        }
        streamPos += n;
    }

    // ---------------------------------------------------------------- the reference side

    /** The reference with the first recorded start inside its bytes; drops the starts it passes. */
    BlockStart.Indexed index(BlockRef ref) {
        long end = blockStart + ref.uncompressedLength();
        BlockStart first = null;
        Start s;
        while ((s = queue.peek()) != null && s.offset() < end) {
            queue.poll();
            if (first == null && s.offset() >= blockStart) {
                first = new BlockStart((int) (s.offset() - blockStart), s.key());
            }
        }
        blockStart = end;
        return new BlockStart.Indexed(ref, first);
    }

    private static int intLe(byte[] b, int off) {
        return (b[off] & 0xFF) | (b[off + 1] & 0xFF) << 8 | (b[off + 2] & 0xFF) << 16 | (b[off + 3] & 0xFF) << 24;
    }
}
