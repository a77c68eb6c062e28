package io.tidemark.shared.bson;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;

/**
 * zstd for stored payloads. Contexts are per thread because creating one per call costs more
 * than compressing a small batch; callers run on worker threads, never on an event loop.
 */
public final class Zstd {

    private static final ThreadLocal<ZstdCompressCtx> COMPRESS = ThreadLocal.withInitial(() -> {
        ZstdCompressCtx ctx = new ZstdCompressCtx();
        ctx.setLevel(1);
        ctx.setChecksum(true);
        return ctx;
    });
    private static final ThreadLocal<ZstdDecompressCtx> DECOMPRESS = ThreadLocal.withInitial(ZstdDecompressCtx::new);

    private Zstd() {
    }

    public static byte[] compress(byte[] data, int offset, int length) {
        return COMPRESS.get().compress(java.util.Arrays.copyOfRange(data, offset, offset + length));
    }

    public static byte[] compress(byte[] data) {
        return COMPRESS.get().compress(data);
    }

    public static byte[] decompress(byte[] compressed, int originalLength) {
        return DECOMPRESS.get().decompress(compressed, originalLength);
    }
}
