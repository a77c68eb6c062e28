package io.tidemark.restore.archive;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Incremental gzip for a push-style pipeline, where {@link java.util.zip.GZIPOutputStream}
 * (which wants an {@code OutputStream} to own) does not fit.
 *
 * <p>{@code mongodump --archive --gzip} gzips the archive as one continuous stream (it is not
 * per collection, unlike directory dumps), and {@code mongorestore --archive --gzip} un-gzips
 * the whole input before parsing. So the archive bytes, framing included, go through here in
 * order and {@link #finish()} ends the single gzip member (RFC 1952).
 *
 * <p>Holds a native {@link Deflater}: {@link #close()} it, also on failure paths.
 */
public final class GzipStreamCompressor implements AutoCloseable {

    // magic, CM=deflate, no flags, MTIME=0, XFL=0, OS=255 (unknown) - what Go's gzip.Writer emits
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

    private final Deflater deflater;
    private final CRC32 crc = new CRC32();
    private final byte[] scratch = new byte[64 * 1024];
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream(64 * 1024);
    private boolean headerWritten;
    private boolean finished;

    public GzipStreamCompressor() {
        this(Deflater.DEFAULT_COMPRESSION);
    }

    public GzipStreamCompressor(int level) {
        this.deflater = new Deflater(level, true);
    }

    /** Feeds bytes in; returns whatever compressed output is ready (often nothing). */
    public byte[] compress(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        requireOpen();
        crc.update(bytes, offset, length);
        deflater.setInput(bytes, offset, length);
        return drain();
    }

    public byte[] compress(byte[] bytes) {
        return compress(bytes, 0, bytes.length);
    }

    /** As {@link #compress(byte[], int, int)} for {@code position..limit}; the position is left alone. */
    public byte[] compress(ByteBuffer bytes) {
        requireOpen();
        crc.update(bytes.duplicate());
        deflater.setInput(bytes.duplicate());
        return drain();
    }

    /** Flushes the deflater and appends the gzip trailer; the returned bytes end the stream. */
    public byte[] finish() {
        requireOpen();
        writeHeaderOnce();
        deflater.finish();
        while (!deflater.finished()) {
            int n = deflater.deflate(scratch);
            pending.write(scratch, 0, n);
        }
        long value = crc.getValue();
        long size = deflater.getBytesRead();
        for (int i = 0; i < 4; i++) {
            pending.write((int) (value >>> (8 * i)));
        }
        for (int i = 0; i < 4; i++) {
            pending.write((int) (size >>> (8 * i))); // ISIZE is the length modulo 2^32
        }
        finished = true;
        return take();
    }

    @Override
    public void close() {
        deflater.end();
    }

    private byte[] drain() {
        writeHeaderOnce();
        while (!deflater.needsInput()) {
            int n = deflater.deflate(scratch);
            pending.write(scratch, 0, n);
        }
        return take();
    }

    private void writeHeaderOnce() {
        if (!headerWritten) {
            pending.write(HEADER, 0, HEADER.length);
            headerWritten = true;
        }
    }

    private byte[] take() {
        byte[] out = pending.toByteArray();
        pending.reset();
        return out;
    }

    private void requireOpen() {
        if (finished) {
            throw new IllegalStateException("gzip stream already finished");
        }
    }
}
