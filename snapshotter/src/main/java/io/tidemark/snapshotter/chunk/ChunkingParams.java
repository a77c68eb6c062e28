package io.tidemark.snapshotter.chunk;

/**
 * Size limits for {@link FastCdcChunker}. These values are part of the on-disk format in
 * effect: changing any of them moves every chunk boundary, so blocks written before the
 * change stop deduplicating against data chunked after it.
 *
 * <p>Why 64 KiB / 256 KiB / 1 MiB by default: a head streams BSON documents that are mostly
 * 0.1–16 KB, so a chunk spans tens to thousands of documents and an edited document costs
 * about one average chunk of new data. 256 KiB keeps zstd level 1 near its best ratio for
 * this kind of data (a much smaller window loses the repeated field names across documents)
 * and keeps block counts manageable — 1 TB is about 4 million blocks, each one row in the
 * blocks collection and one reference in a manifest. The 1 MiB maximum bounds memory per
 * in-flight chunk and keeps a block document far below MongoDB's 16 MiB limit even when the
 * data does not compress. The 64 KiB minimum lets the chunker skip a quarter of the bytes
 * without hashing them, which is most of its speed.
 */
public record ChunkingParams(int minSize, int avgSize, int maxSize) {

    public static final ChunkingParams DEFAULT = new ChunkingParams(64 << 10, 256 << 10, 1 << 20);

    public ChunkingParams {
        if (minSize < FastCdcChunker.WINDOW) {
            throw new IllegalArgumentException("minSize must be at least " + FastCdcChunker.WINDOW + ": " + minSize);
        }
        if (Integer.bitCount(avgSize) != 1) {
            throw new IllegalArgumentException("avgSize must be a power of two: " + avgSize);
        }
        if (!(minSize < avgSize && avgSize < maxSize)) {
            throw new IllegalArgumentException(
                    "need minSize < avgSize < maxSize: " + minSize + " / " + avgSize + " / " + maxSize);
        }
        // The strict mask has log2(avg) + NORMALIZATION bits; keep masks well inside a long.
        if (Integer.numberOfTrailingZeros(avgSize) < 8 || Integer.numberOfTrailingZeros(avgSize) > 30) {
            throw new IllegalArgumentException("avgSize out of range [256, 1 GiB]: " + avgSize);
        }
    }
}
