package io.tidemark.applier;

import io.tidemark.shared.bson.BsonFrames;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.SyncStore;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Loads an initial sync from the sync store into an empty head: every collection's catalog entry
 * (as listCollections and listIndexes reported it), then its documents slice by slice, then the
 * position catch-up starts from. Blocking: runs on the job's head thread.
 *
 * <p>Every document the sync stored is read, or the build fails: a head that silently missed
 * documents would be copied into every snapshot after it, and verify would be the first to notice.
 */
final class HeadBuilder {

    private static final Logger LOG = LoggerFactory.getLogger(HeadBuilder.class);

    private final SyncStore sync;
    private final String job;
    private final long generation;

    HeadBuilder(SyncStore sync, String job, long generation) {
        this.sync = sync;
        this.job = job;
        this.generation = generation;
    }

    /**
     * Returns the number of documents loaded. {@code storedDocuments} is what the sync store
     * acknowledged when the sync ended (-1: not known); the build fails unless it reads as many.
     */
    long build(Head head, OpTime startTs, long storedDocuments) {
        long documents = 0;
        long read = 0;
        for (RawBsonDocument entry : sync.collections(job, generation).toIterable(4)) {
            String ns = entry.getString("ns").getValue();
            int dot = ns.indexOf('.');
            String db = ns.substring(0, dot);
            String collection = ns.substring(dot + 1);
            if (InternalNamespaces.isSkipped(db, collection)) {
                read += sync.documents(job, generation, ns).block();
                continue;
            }
            BsonDocument info = entry.getDocument("info");
            NamespaceType type = typeOf(info);
            RawBsonDocument options = raw(info.containsKey("options") ? info.getDocument("options") : new BsonDocument());
            List<RawBsonDocument> indexes = new ArrayList<>();
            for (BsonValue index : entry.getArray("indexes")) {
                indexes.add(raw(index.asDocument()));
            }
            NamespaceEntry created = head.createNamespace(db, collection, uuidOf(info), type, options, indexes);
            if (type == NamespaceType.COLLECTION) {
                long[] counts = load(head, created, ns);
                documents += counts[0];
                read += counts[1];
            } else {
                read += sync.documents(job, generation, ns).block();
            }
        }
        if (storedDocuments >= 0 && read != storedDocuments) {
            throw new IllegalStateException("job " + job + ": the sync store gave " + read + " of the " + storedDocuments
                    + " documents initial sync generation " + generation + " stored; its head is not built from it"
                    + " (rebuild it from a snapshot, or start a new initial sync with 'tidemark jobs resync --job " + job + "')");
        }
        head.initializePosition(startTs);
        return documents;
    }

    /** Loads a collection's slices: the documents loaded and the documents read. */
    private long[] load(Head head, NamespaceEntry ns, String name) {
        long n;
        long read = 0;
        try (BulkLoader loader = head.bulkLoader(ns.id())) {
            for (byte[] slice : sync.slices(job, generation, name).toIterable(1)) {
                for (BsonFrames.Frame f : BsonFrames.split(slice)) {
                    loader.add(slice, f.offset(), f.length());
                    read++;
                }
            }
            n = loader.finish();
        }
        LOG.info("job {}: head loaded {} ({} documents)", job, name, n);
        return new long[] {n, read};
    }

    private static NamespaceType typeOf(BsonDocument info) {
        String type = info.containsKey("type") ? info.getString("type").getValue() : "collection";
        return switch (type) {
            case "collection" -> NamespaceType.COLLECTION;
            case "view" -> NamespaceType.VIEW;
            case "timeseries" -> NamespaceType.TIMESERIES;
            default -> throw new IllegalStateException("collection type '" + type + "' from listCollections is not supported");
        };
    }

    private static UUID uuidOf(BsonDocument info) {
        if (!info.isDocument("info") || !info.getDocument("info").isBinary("uuid")) {
            return null;
        }
        return info.getDocument("info").getBinary("uuid").asUuid(UuidRepresentation.STANDARD);
    }

    private static RawBsonDocument raw(BsonDocument doc) {
        // Encoded, never round-tripped through JSON, which would not keep every BSON type exactly.
        return doc instanceof RawBsonDocument r ? r : new RawBsonDocument(doc, new org.bson.codecs.BsonDocumentCodec());
    }
}
