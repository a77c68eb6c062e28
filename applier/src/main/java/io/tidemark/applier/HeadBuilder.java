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

    /** Returns the number of documents loaded. */
    long build(Head head, OpTime startTs) {
        long documents = 0;
        for (RawBsonDocument entry : sync.collections(job, generation).toIterable(4)) {
            String ns = entry.getString("ns").getValue();
            int dot = ns.indexOf('.');
            String db = ns.substring(0, dot);
            String collection = ns.substring(dot + 1);
            if (InternalNamespaces.isSkipped(db, collection)) {
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
                documents += load(head, created, ns);
            }
        }
        head.initializePosition(startTs);
        return documents;
    }

    private long load(Head head, NamespaceEntry ns, String name) {
        long n = 0;
        try (BulkLoader loader = head.bulkLoader(ns.id())) {
            for (byte[] slice : sync.slices(job, generation, name).toIterable(1)) {
                for (BsonFrames.Frame f : BsonFrames.split(slice)) {
                    loader.add(slice, f.offset(), f.length());
                }
            }
            n = loader.finish();
        }
        LOG.info("job {}: head loaded {} ({} documents)", job, name, n);
        return n;
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
