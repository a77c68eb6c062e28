package io.tidemark.restore.archive;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * Blocking convenience over {@link ArchiveEncoder} for tests and the CLI: writes a complete
 * archive to an {@link OutputStream}, optionally gzipped as {@code mongorestore --archive --gzip}
 * expects. Like mongodump's multiplexer, it starts a new segment whenever the namespace of the
 * next document differs from the current one, so sequential callers get one segment per
 * namespace and interleaving callers get correct, if more fragmented, output.
 */
public final class ArchiveWriter implements Closeable {

    public enum Compression { NONE, GZIP }

    private final OutputStream target;
    private final GzipStreamCompressor gzip;
    private final OutputStream out;
    private final ArchiveEncoder encoder;
    private boolean closed;

    /** Writes the prelude straight away. Closing the writer closes {@code target}. */
    public ArchiveWriter(OutputStream target, ArchiveHeader header, List<CollectionMetadata> collections,
                         Compression compression) throws IOException {
        this.target = Objects.requireNonNull(target, "target");
        this.encoder = new ArchiveEncoder(header, collections);
        this.gzip = compression == Compression.GZIP ? new GzipStreamCompressor() : null;
        // documents are usually small: batch them before they reach the deflater or the target
        this.out = new BufferedOutputStream(gzip == null ? target : new CompressingStream(gzip, target), 64 * 1024);
        out.write(encoder.prelude());
    }

    public ArchiveEncoder encoder() {
        return encoder;
    }

    /** Appends one raw BSON document of {@code ns}. */
    public void write(Namespace ns, byte[] bson, int offset, int length) throws IOException {
        ensureBlock(ns);
        encoder.document(bson, offset, length);
        out.write(bson, offset, length);
    }

    public void write(Namespace ns, byte[] bson) throws IOException {
        write(ns, bson, 0, bson.length);
    }

    /** Ends {@code ns}: no more documents of it may follow. */
    public void endNamespace(Namespace ns) throws IOException {
        var open = encoder.openBlock();
        if (open.isPresent() && !open.get().equals(ns)) {
            out.write(encoder.endBlock());
        }
        out.write(encoder.endNamespace(ns));
    }

    /** Writes all of {@code documents} as {@code ns} and ends it. */
    public void writeNamespace(Namespace ns, Iterator<byte[]> documents) throws IOException {
        while (documents.hasNext()) {
            write(ns, documents.next());
        }
        endNamespace(ns);
    }

    /**
     * Verifies every namespace has ended, finishes gzip and closes the target. The target is
     * closed even when the archive is incomplete; the {@link IllegalStateException} then says
     * which namespaces are missing.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (target) {
            // on an incomplete archive nothing more is flushed: a truncated stream fails loudly
            // in mongorestore, whereas a tidied-up one might not
            encoder.finish();
            out.flush();
            if (gzip != null) {
                target.write(gzip.finish());
            }
            target.flush();
        } finally {
            if (gzip != null) {
                gzip.close();
            }
        }
    }

    private void ensureBlock(Namespace ns) throws IOException {
        var open = encoder.openBlock();
        if (open.isPresent() && open.get().equals(ns)) {
            return;
        }
        if (open.isPresent()) {
            out.write(encoder.endBlock());
        }
        out.write(encoder.beginBlock(ns));
    }

    /** Routes buffered archive bytes through the compressor. */
    private static final class CompressingStream extends OutputStream {
        private final GzipStreamCompressor gzip;
        private final OutputStream target;

        CompressingStream(GzipStreamCompressor gzip, OutputStream target) {
            this.gzip = gzip;
            this.target = target;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            byte[] compressed = gzip.compress(b, off, len);
            if (compressed.length > 0) {
                target.write(compressed);
            }
        }

        @Override
        public void flush() {
            // a gzip sync flush would bloat the stream; bytes leave at finish()
        }

        @Override
        public void close() {
            // the writer owns the target
        }
    }
}
