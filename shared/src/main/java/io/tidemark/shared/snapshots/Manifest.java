package io.tidemark.shared.snapshots;

import io.tidemark.shared.oplog.OpTime;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.bson.BsonDocument;

/**
 * What a snapshot holds: the position it was cut at and, per namespace, the catalog metadata a
 * restore recreates the collection from plus the totals of its block references. The references
 * themselves are paged beside the header (see {@link ManifestStore}); a 1 TB head has millions.
 */
public record Manifest(String snapshotId, String job, OpTime ts, Instant createdAt, List<Namespace> namespaces) {

    public Manifest {
        Objects.requireNonNull(snapshotId, "snapshotId");
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(ts, "ts");
        Objects.requireNonNull(createdAt, "createdAt");
        namespaces = List.copyOf(namespaces);
    }

    /**
     * One namespace of the snapshot, in the head's catalog order.
     *
     * @param index position of the namespace in the manifest; its reference pages are keyed by it
     * @param type {@code collection}, {@code view} or {@code timeseries}, as listCollections says
     * @param uuid the collection UUID, null for views
     * @param storedBytes compressed bytes of the blocks this snapshot added for the namespace
     * @param blocks number of block references (a block may be referenced more than once)
     */
    public record Namespace(int index, String db, String collection, String type, UUID uuid, BsonDocument options,
                            List<BsonDocument> indexes, long documents, long logicalBytes, long storedBytes,
                            long blocks, int pages) {
        public Namespace {
            Objects.requireNonNull(db, "db");
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(type, "type");
            options = options == null ? new BsonDocument() : options;
            indexes = List.copyOf(indexes == null ? List.of() : indexes);
        }

        public String ns() {
            return db + "." + collection;
        }
    }

    public long documents() {
        return namespaces.stream().mapToLong(Namespace::documents).sum();
    }

    public long logicalBytes() {
        return namespaces.stream().mapToLong(Namespace::logicalBytes).sum();
    }

    public long storedBytes() {
        return namespaces.stream().mapToLong(Namespace::storedBytes).sum();
    }

    public long blocks() {
        return namespaces.stream().mapToLong(Namespace::blocks).sum();
    }
}
