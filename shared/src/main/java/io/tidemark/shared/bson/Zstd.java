package io.tidemark.shared.bson;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.vertx.core.Context;

/**
 * zstd for stored payloads. Contexts are per thread because creating one per call costs more
 * than compressing a small batch; callers run on worker threads, never on an event loop (asserted:
 * tests run with assertions on, so a path that compresses on an event loop fails its test
 * however small the payload there).
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
        assert offLoop();
        return COMPRESS.get().compress(java.util.Arrays.copyOfRange(data, offset, offset + length));
    }

    public static byte[] compress(byte[] data) {
        assert offLoop();
        return COMPRESS.get().compress(data);
    }

    public static byte[] decompress(byte[] compressed, int originalLength) {
        assert offLoop();
        return DECOMPRESS.get().decompress(compressed, originalLength);
    }

    private static boolean offLoop() {
        if (Context.isOnEventLoopThread()) {
            throw new AssertionError("zstd on the event loop " + Thread.currentThread().getName() + ": run it on a worker");
        }
        return true;
    }
}
