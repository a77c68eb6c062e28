package io.tidemark.shared.blocks;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.util.Arrays;

/**
 * zstd framing of blocks and the verification every read goes through. A stored block is a
 * single standard zstd frame with the content size in its header, so an operator can check
 * one by hand with {@code zstd -dc <file> | sha256sum}.
 */
public final class BlockCodec {

    /**
     * Upper bound accepted for a block's uncompressed size. Far above any chunker maximum;
     * it only stops a corrupt size field from making a reader allocate gigabytes.
     */
    public static final int MAX_UNCOMPRESSED = 64 << 20;

    // Native contexts are costly to create and not thread-safe; worker threads are few and
    // long-lived, so one context per thread is both cheap and bounded.
    private static final ThreadLocal<ZstdDecompressCtx> DECOMPRESS = ThreadLocal.withInitial(ZstdDecompressCtx::new);
    private static final ThreadLocal<LeveledCompressor> COMPRESS = ThreadLocal.withInitial(LeveledCompressor::new);

    private BlockCodec() {
    }

    public static byte[] compress(byte[] data, int level) {
        return compress(data, 0, data.length, level);
    }

    /** Compresses {@code data[offset, offset + length)} into one frame with its content size. */
    public static byte[] compress(byte[] data, int offset, int length, int level) {
        return COMPRESS.get().compress(data, offset, length, level);
    }

    /** Rejects a frame whose header disagrees with the length the caller claims for it. */
    public static void checkFrame(BlockId id, byte[] compressed, int uncompressedLength) {
        long headerSize = frameContentSize(compressed);
        if (headerSize != uncompressedLength) {
            throw new IllegalArgumentException("block " + id.hex() + ": zstd frame holds " + headerSize
                    + " bytes (-1: no valid frame), caller says " + uncompressedLength);
        }
    }

    /** The uncompressed size recorded in the frame header, or -1 if absent or invalid. */
    public static long frameContentSize(byte[] compressed) {
        try {
            long size = Zstd.getFrameContentSize(compressed);
            return size >= 0 ? size : -1;
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * Decompresses and checks the result against {@code id}.
     *
     * @param expectedLength the uncompressed length recorded beside the block, or -1 to
     *     trust the frame header
     */
    public static byte[] decodeVerified(BlockId id, byte[] compressed, long expectedLength) {
        long headerSize = frameContentSize(compressed);
        if (headerSize < 0) {
            throw new CorruptBlockException(id, "not a zstd frame with a content size");
        }
        if (expectedLength >= 0 && headerSize != expectedLength) {
            throw new CorruptBlockException(id,
                    "frame says " + headerSize + " bytes, store says " + expectedLength);
        }
        if (headerSize > MAX_UNCOMPRESSED) {
            throw new CorruptBlockException(id, "implausible uncompressed size " + headerSize);
        }
        byte[] data = new byte[(int) headerSize];
        int n;
        try {
            n = DECOMPRESS.get().decompress(data, compressed);
        } catch (ZstdException e) {
            throw new CorruptBlockException(id, "zstd: " + e.getMessage(), e);
        }
        if (n != data.length) {
            throw new CorruptBlockException(id, "decompressed " + n + " bytes, expected " + data.length);
        }
        if (!id.matches(data)) {
            throw new CorruptBlockException(id, "content does not hash to the block id");
        }
        return data;
    }

    private static final class LeveledCompressor {
        // Content size in the header lets readers size the output exactly; no frame checksum
        // because every read is checked against SHA-256 anyway.
        private final ZstdCompressCtx ctx = new ZstdCompressCtx().setContentSize(true).setChecksum(false);
        private int level = Integer.MIN_VALUE;
        // Compressing into a reused worst-case buffer and copying out the exact size spares
        // the heap one chunk-sized (often humongous) temporary per block.
        private byte[] scratch = new byte[0];

        byte[] compress(byte[] data, int offset, int length, int wanted) {
            if (wanted != level) {
                ctx.setLevel(wanted);
                level = wanted;
            }
            int bound = (int) Zstd.compressBound(length);
            if (scratch.length < bound) {
                scratch = new byte[bound];
            }
            int n = ctx.compressByteArray(scratch, 0, scratch.length, data, offset, length);
            return Arrays.copyOf(scratch, n);
        }
    }
}
