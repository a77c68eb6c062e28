package io.tidemark.restore;

import io.tidemark.restore.archive.ArchiveEncoder;
import io.tidemark.restore.archive.ArchiveHeader;
import io.tidemark.restore.archive.CollectionMetadata;
import io.tidemark.restore.archive.GzipStreamCompressor;
import io.tidemark.restore.archive.Namespace;
import io.tidemark.shared.snapshots.Manifest;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.Deflater;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A restore source as the byte stream of a mongodump archive ({@code mongorestore --archive},
 * with {@code --gzip} when compressed): the prelude from the namespaces' metadata, then each
 * namespace as one segment of its documents and its EOF block with the CRC.
 *
 * <p>Memory is bounded whatever the restore's size: namespaces are written one after another,
 * each buffer of the source is forwarded as it is (see {@link SegmentFramer}), and the stream
 * asks the source for more only as its subscriber asks for more. A subscriber that requests one
 * buffer at a time as its socket drains therefore holds the source's prefetch plus
 * {@value #FRAMING_PREFETCH} buffers: a few MB.
 *
 * <p>Framing, checksums and compression run on {@code cpu}, never on the caller's thread (which
 * may be an event loop): the source's buffers are handed over to it before they are touched.
 */
public final class ArchiveStream {

    /**
     * The header every Tidemark archive carries. mongorestore reads {@code server_version} only
     * to decide where time-series data lives (bucket collections before 8.3), which is where heads
     * keep it. {@code concurrent_collections} is mongodump's default; this stream has one
     * namespace open at a time, far below it.
     */
    public static final ArchiveHeader HEADER = new ArchiveHeader(4, "7.0.0", "tidemark 0.1.0");

    /**
     * Deflate level for {@code --gzip}. mongodump uses Go's default (6); level 1 makes BSON only a
     * little larger and compresses several times faster, and a single gzip stream runs on one
     * core, so it is what bounds a gzipped download's speed.
     */
    static final int GZIP_LEVEL = Deflater.BEST_SPEED;

    /** Source buffers waiting for the framing thread, per namespace. */
    private static final int FRAMING_PREFETCH = 2;

    private ArchiveStream() {
    }

    /**
     * The archive of {@code source}; nothing is read before subscription. The stream fails, and
     * must then be discarded as incomplete, when a read fails (a corrupt block names itself) or
     * the source's data is not whole BSON documents.
     */
    public static Flux<ByteBuffer> of(RestoreSource source, boolean gzip, Scheduler cpu) {
        Flux<ByteBuffer> archive = Flux.defer(() -> {
            List<Manifest.Namespace> namespaces = source.namespaces();
            List<CollectionMetadata> metadata = PreludeMetadata.of(namespaces);
            ArchiveEncoder encoder = new ArchiveEncoder(HEADER, metadata);
            Flux<ByteBuffer> plain = Flux.concat(
                    Mono.fromCallable(() -> ByteBuffer.wrap(encoder.prelude())),
                    Flux.range(0, namespaces.size()).concatMap(i ->
                            namespace(encoder, source, namespaces.get(i), metadata.get(i).namespace(), cpu)),
                    Mono.<ByteBuffer>fromRunnable(encoder::finish));
            return gzip ? gzip(plain) : plain;
        });
        return archive.subscribeOn(cpu);
    }

    private static Flux<ByteBuffer> namespace(ArchiveEncoder encoder, RestoreSource source, Manifest.Namespace ns,
            Namespace name, Scheduler cpu) {
        return Flux.defer(() -> {
            SegmentFramer framer = new SegmentFramer(encoder, name);
            return Flux.concat(
                    Mono.fromCallable(() -> ByteBuffer.wrap(encoder.beginBlock(name))),
                    source.documents(ns).publishOn(cpu, FRAMING_PREFETCH)
                            .filter(ByteBuffer::hasRemaining)
                            .map(framer::accept),
                    Mono.fromCallable(() -> {
                        framer.finish();
                        return ByteBuffer.wrap(encoder.endNamespace(name));
                    }));
        });
    }

    /**
     * One gzip member over the whole archive, as {@code mongodump --archive --gzip} writes it.
     * The compressor holds a native deflater, released however the stream ends.
     */
    private static Flux<ByteBuffer> gzip(Flux<ByteBuffer> plain) {
        return Flux.using(() -> new GzipStreamCompressor(GZIP_LEVEL),
                gz -> plain.map(b -> ByteBuffer.wrap(gz.compress(b)))
                        .filter(ByteBuffer::hasRemaining)
                        .concatWith(Mono.fromCallable(() -> ByteBuffer.wrap(gz.finish()))),
                GzipStreamCompressor::close);
    }
}
