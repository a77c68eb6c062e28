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
public record Manifest(String snapshotId, String job, OpTime ts, Instant createdAt, List<Namespace> namespaces,
                       Chain chain) {

    public Manifest {
        Objects.requireNonNull(snapshotId, "snapshotId");
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(ts, "ts");
        Objects.requireNonNull(createdAt, "createdAt");
        namespaces = List.copyOf(namespaces);
        chain = chain == null ? Chain.UNKNOWN_FULL : chain;
    }

    /** A full snapshot of unrecorded key encoding (what manifests written before deltas are). */
    public Manifest(String snapshotId, String job, OpTime ts, Instant createdAt, List<Namespace> namespaces) {
        this(snapshotId, job, ts, createdAt, namespaces, Chain.UNKNOWN_FULL);
    }

    /**
     * Where a snapshot stands in a delta chain.
     *
     * @param kind {@link #FULL} or {@link #DELTA}
     * @param parent the snapshot a delta builds on (null for a full one)
     * @param depth deltas between this snapshot and its chain's full base (0 for a full one)
     * @param chainBytes logical bytes of the delta records written by the chain's deltas up to here
     * @param baseBytes logical bytes of the chain's full base
     * @param keyEncoding the head key encoding the snapshot's keys and key order follow (0: not recorded)
     */
    public record Chain(String kind, String parent, int depth, long chainBytes, long baseBytes, int keyEncoding) {
        public static final String FULL = "full";
        public static final String DELTA = "delta";
        static final Chain UNKNOWN_FULL = new Chain(FULL, null, 0, 0, 0, 0);

        public Chain {
            if (!FULL.equals(kind) && !DELTA.equals(kind)) {
                throw new IllegalArgumentException("snapshot kind " + kind);
            }
            if (DELTA.equals(kind) == (parent == null)) {
                throw new IllegalArgumentException("a delta names its parent, a full snapshot none");
            }
        }

        public static Chain full(long logicalBytes, int keyEncoding) {
            return new Chain(FULL, null, 0, 0, logicalBytes, keyEncoding);
        }

        public boolean isDelta() {
            return DELTA.equals(kind);
        }
    }

    public boolean isDelta() {
        return chain.isDelta();
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
                            long blocks, int pages, DeltaOf deltaOf) {
        public Namespace {
            Objects.requireNonNull(db, "db");
            Objects.requireNonNull(collection, "collection");
            Objects.requireNonNull(type, "type");
            options = options == null ? new BsonDocument() : options;
            indexes = List.copyOf(indexes == null ? List.of() : indexes);
        }

        /** A namespace stored whole: its blocks are its documents' raw BSON in key order. */
        public Namespace(int index, String db, String collection, String type, UUID uuid, BsonDocument options,
                         List<BsonDocument> indexes, long documents, long logicalBytes, long storedBytes,
                         long blocks, int pages) {
            this(index, db, collection, type, uuid, options, indexes, documents, logicalBytes, storedBytes, blocks, pages,
                    null);
        }

        /** Whether the blocks hold delta records on {@link #deltaOf()} rather than whole documents. */
        public boolean isDelta() {
            return deltaOf != null;
        }

        public String ns() {
            return db + "." + collection;
        }
    }

    /**
     * What a delta namespace builds on: namespace {@code index} of snapshot {@code snapshotId}, an
     * ancestor of this snapshot in its chain. Its blocks then hold the changed documents and deleted
     * keys since that one, in key order (see {@code docs/operations.md}, delta snapshots);
     * {@code documents} is the merged count, {@code logicalBytes} that of the delta records.
     */
    public record DeltaOf(String snapshotId, int index) {
        public DeltaOf {
            Objects.requireNonNull(snapshotId, "snapshotId");
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
