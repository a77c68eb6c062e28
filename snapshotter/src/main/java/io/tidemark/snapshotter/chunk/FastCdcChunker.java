package io.tidemark.snapshotter.chunk;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Streaming content-defined chunker after FastCDC (Xia et al., USENIX ATC 2016): a gear
 * rolling hash, cut-point skipping below the minimum size and normalised chunking with two
 * masks — a stricter one (log2(avg) + 1 bits) before the average size and a looser one
 * (log2(avg) - 1 bits) after it — which pulls chunk sizes towards the average.
 *
 * <p>Boundaries depend only on the bytes: the hash is restarted {@link #WINDOW} bytes before
 * the minimum size, and a 64-bit gear hash forgets a byte after 64 shifts, so whether a
 * position is a cut point depends on the 64 bytes ending there and on its distance from the
 * previous cut — never on how the input was split into {@link #next} calls. The masks test
 * the high bits of the hash, which are the ones that have seen the whole window.
 *
 * <p>Memory: only the unfinished chunk is buffered, at most {@code maxSize} bytes. Chunks
 * are produced one per {@link #next} call so that a consumer applying backpressure never
 * forces the chunker to materialise more than one chunk from a large input buffer.
 *
 * <p>{@link #findCut} is the copy-free alternative for a caller that keeps the bytes of the
 * unfinished chunk itself (the block writer cuts chunks in place in its read buffers and
 * hashes and compresses them from there). It yields the same boundaries. An instance is used
 * either through {@link #next}/{@link #finish} or through {@link #findCut}/{@link #reset}.
 *
 * <p>Not thread-safe; one instance per stream.
 */
public final class FastCdcChunker {

    /**
     * Normalisation level: mask bits added before the average size and removed after it.
     * Level 1 rather than the paper's 2 because after an insertion the chunker must land
     * on an old cut point to resynchronise, and most old cut points only satisfy the loose
     * mask; with level 2 it then sometimes took four to six chunks to resynchronise on
     * synthetic document data, with level 1 consistently two (see FastCdcChunkerTest and
     * BlockWriterTest). Part of the chunk format like the gear table.
     */
    static final int NORMALIZATION = 1;

    /** Bytes a 64-bit gear hash depends on. */
    static final int WINDOW = 64;

    private static final long[] GEAR = GearTable.GEAR;
    private static final int DIRECT_SLICE = 64 << 10;

    private final int minSize;
    private final int avgSize;
    private final int maxSize;
    private final long maskStrict;
    private final long maskLoose;

    /** The bytes of the current, unfinished chunk; allocated on first use by {@link #next}. */
    private byte[] pending;
    private int pendingLen;
    private long hash;
    private byte[] directScratch;

    public FastCdcChunker() {
        this(ChunkingParams.DEFAULT);
    }

    public FastCdcChunker(ChunkingParams params) {
        this.minSize = params.minSize();
        this.avgSize = params.avgSize();
        this.maxSize = params.maxSize();
        int bits = Integer.numberOfTrailingZeros(avgSize);
        this.maskStrict = highBits(bits + NORMALIZATION);
        this.maskLoose = highBits(bits - NORMALIZATION);
    }

    private static long highBits(int n) {
        return -1L << (64 - n);
    }

    /**
     * Consumes bytes from {@code in} until a chunk ends or {@code in} is exhausted.
     *
     * @return the completed chunk (a new array the caller owns), or {@code null} when
     *     {@code in} ran out first; its bytes are then kept for the next call
     */
    public byte[] next(ByteBuffer in) {
        if (in.hasArray()) {
            byte[] a = in.array();
            int base = in.arrayOffset();
            int from = base + in.position();
            int to = base + in.limit();
            int cut = scan(a, from, to);
            if (cut < 0) {
                append(a, from, to - from);
                in.position(in.limit());
                return null;
            }
            in.position(cut - base);
            return takeChunk(a, from, cut);
        }
        if (directScratch == null) {
            directScratch = new byte[DIRECT_SLICE];
        }
        while (in.hasRemaining()) {
            int n = Math.min(directScratch.length, in.remaining());
            in.get(in.position(), directScratch, 0, n);
            int cut = scan(directScratch, 0, n);
            if (cut < 0) {
                append(directScratch, 0, n);
                in.position(in.position() + n);
            } else {
                in.position(in.position() + cut);
                return takeChunk(directScratch, 0, cut);
            }
        }
        return null;
    }

    /**
     * Scans {@code a[from, to)} as the continuation of the current chunk, whose earlier
     * {@link #buffered()} bytes the caller holds.
     *
     * @return the index in {@code a} just past the chunk's last byte (the chunker is then
     *     ready for the next chunk, which starts there), or -1 when the chunk does not end
     *     inside the range; the range then counts as buffered
     */
    public int findCut(byte[] a, int from, int to) {
        int cut = scan(a, from, to);
        if (cut < 0) {
            pendingLen += to - from;
            return -1;
        }
        reset();
        return cut;
    }

    /** Forgets the unfinished chunk: the caller took its bytes as the final chunk. */
    public void reset() {
        pendingLen = 0;
        hash = 0;
    }

    /** Returns the trailing partial chunk (or {@code null} if there is none) and resets. */
    public byte[] finish() {
        if (pendingLen == 0) {
            return null;
        }
        byte[] last = Arrays.copyOf(pending, pendingLen);
        pendingLen = 0;
        hash = 0;
        return last;
    }

    /** Feeds all of {@code in}, handing every completed chunk to {@code sink}. */
    public void feed(ByteBuffer in, Consumer<byte[]> sink) {
        byte[] chunk;
        while ((chunk = next(in)) != null) {
            sink.accept(chunk);
        }
    }

    /** Number of bytes buffered for the unfinished chunk. */
    public int buffered() {
        return pendingLen;
    }

    private void append(byte[] a, int from, int len) {
        if (pending == null) {
            pending = new byte[maxSize];
        }
        System.arraycopy(a, from, pending, pendingLen, len);
        pendingLen += len;
    }

    private byte[] takeChunk(byte[] a, int from, int cut) {
        byte[] chunk;
        if (pendingLen == 0) {
            chunk = Arrays.copyOfRange(a, from, cut);
        } else {
            chunk = new byte[pendingLen + cut - from];
            System.arraycopy(pending, 0, chunk, 0, pendingLen);
            System.arraycopy(a, from, chunk, pendingLen, cut - from);
        }
        pendingLen = 0;
        hash = 0;
        return chunk;
    }

    /**
     * Scans {@code a[from, to)}, which continues the current chunk after its
     * {@code pendingLen} buffered bytes.
     *
     * @return the index in {@code a} just past the cut point, or -1 (state saved) if the
     *     chunk does not end inside the range
     */
    private int scan(byte[] a, int from, int to) {
        final long[] gear = GEAR;
        int chunkPos = pendingLen;
        int i = from;
        long h = hash;

        // Cut-point skipping: positions this far from the start can never be cut points,
        // and the hash only needs the last WINDOW bytes before the minimum size.
        int hashFrom = minSize - WINDOW;
        if (chunkPos < hashFrom) {
            int n = Math.min(hashFrom - chunkPos, to - i);
            i += n;
            chunkPos += n;
            if (chunkPos < hashFrom) {
                return -1;
            }
        }
        if (chunkPos < minSize) {
            int end = i + Math.min(minSize - chunkPos, to - i);
            int start = i;
            for (; i < end; i++) {
                h = (h << 1) + gear[a[i] & 0xff];
            }
            chunkPos += i - start;
            if (chunkPos < minSize) {
                hash = h;
                return -1;
            }
        }
        if (chunkPos < avgSize) {
            int end = i + Math.min(avgSize - chunkPos, to - i);
            int cut = hashUntilCut(a, i, end, h, maskStrict);
            if (cut >= 0) {
                return cut;
            }
            chunkPos += end - i;
            i = end;
            h = hash;
            if (chunkPos < avgSize) {
                return -1;
            }
        }
        int end = i + Math.min(maxSize - chunkPos, to - i);
        int cut = hashUntilCut(a, i, end, h, maskLoose);
        if (cut >= 0) {
            return cut;
        }
        chunkPos += end - i;
        if (chunkPos == maxSize) {
            return end;
        }
        return -1;
    }

    /**
     * Rolls the hash over {@code a[i, end)} and returns the index just past the first byte
     * after which {@code hash & mask == 0}, or -1 with the rolled hash left in
     * {@link #hash}.
     *
     * <p>Two bytes per iteration: h(i+2) = (h(i) << 2) + ((g0 << 1) + g1) is the same value
     * as two single steps, but the dependency chain through h is one shift and one add per
     * two bytes instead of per byte, and the hot loop is bound by that chain.
     */
    private int hashUntilCut(byte[] a, int i, int end, long h, long mask) {
        final long[] gear = GEAR;
        int pairsEnd = end - 1;
        for (; i < pairsEnd; i += 2) {
            long g0 = gear[a[i] & 0xff];
            long g1 = gear[a[i + 1] & 0xff];
            long h0 = (h << 1) + g0;
            h = (h << 2) + ((g0 << 1) + g1);
            if (((h0 & mask) == 0) | ((h & mask) == 0)) {
                return (h0 & mask) == 0 ? i + 1 : i + 2;
            }
        }
        if (i < end) {
            h = (h << 1) + gear[a[i] & 0xff];
            if ((h & mask) == 0) {
                return i + 1;
            }
        }
        hash = h;
        return -1;
    }
}
