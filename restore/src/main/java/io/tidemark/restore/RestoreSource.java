package io.tidemark.restore;

import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import reactor.core.publisher.Flux;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * What a restore delivers: a deployment's namespaces, with their catalog metadata, exactly as
 * they were at one oplog position. A snapshot provides one from its manifest and blocks; a
 * point-in-time restore from a temporary head replayed to the target. The archive encoder and the
 * push to a target deployment consume it without knowing which.
 */
public interface RestoreSource extends AutoCloseable {

    /** The position the data reflects. */
    OpTime ts();

    /**
     * Namespaces in restore order, with options, index specs, UUID and type (views and
     * time-series definitions have no documents of their own).
     */
    List<Manifest.Namespace> namespaces();

    /** Total uncompressed BSON bytes of all documents, for progress and ETA. */
    long logicalBytes();

    /**
     * A namespace's documents as raw BSON laid end to end, in buffers whose boundaries need not
     * fall between documents. Backpressured: nothing is read ahead of demand beyond a bounded
     * prefetch, so memory stays bounded whatever the data size.
     */
    Flux<ByteBuffer> documents(Manifest.Namespace namespace);

    /** Releases what the source holds (a temporary head and its files). */
    @Override
    void close();
}
