package io.tidemark.snapshotter.bench;

import io.tidemark.applier.BulkLoader;
import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.NamespaceType;
import io.tidemark.shared.oplog.OpTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * A head filled with {@link SyntheticDocuments}: the three synthetic collections with their
 * indexes, plus a view, as initial sync would leave them; and the changes a day of traffic
 * brings (documents rewritten in place, new ones appended). For the snapshot benchmark and tests.
 */
public final class SyntheticHead {

    private static final long T0 = 1_700_000_000L;

    private SyntheticHead() {
    }

    /** Creates the namespaces and loads about {@code bytes} of documents; returns the document count. */
    public static long load(Head head, SyntheticDocuments docs, long bytes) {
        List<NamespaceEntry> namespaces = new ArrayList<>();
        for (String ns : SyntheticDocuments.NAMESPACES) {
            String[] parts = ns.split("\\.", 2);
            List<RawBsonDocument> indexes = new ArrayList<>();
            indexes.add(raw(new BsonDocument("v", new BsonInt32(2)).append("key", new BsonDocument("_id", new BsonInt32(1)))
                    .append("name", new BsonString("_id_"))));
            if (parts[1].equals("orders")) {
                indexes.add(raw(new BsonDocument("v", new BsonInt32(2))
                        .append("key", new BsonDocument("userId", new BsonInt32(1)).append("placedAt", new BsonInt32(-1)))
                        .append("name", new BsonString("userId_1_placedAt_-1"))));
            }
            namespaces.add(head.createNamespace(parts[0], parts[1], UUID.nameUUIDFromBytes(ns.getBytes()),
                    NamespaceType.COLLECTION, raw(new BsonDocument()), indexes));
        }
        head.createNamespace("shop", "openOrders", null, NamespaceType.VIEW,
                raw(new BsonDocument("viewOn", new BsonString("orders")).append("pipeline", new BsonArray(List.of(
                        new BsonDocument("$match", new BsonDocument("status", new BsonString("placed"))))))),
                List.of());
        long count = loadDocuments(head, namespaces, docs, bytes, 0);
        head.initializePosition(OpTime.of(new BsonTimestamp((int) T0, 1)));
        return count;
    }

    /**
     * What happened since {@link #load}: in each collection a run of {@code rewriteShare} of its
     * documents, the most recent ones (where updates concentrate), rewritten in place; then
     * {@code appendBytes} of new documents from {@code fresh}, with ids after all existing
     * ones. Moves the head's position one second on. Returns {"rewritten", "appended"} counts.
     */
    public static Map<String, Long> change(Head head, SyntheticDocuments fresh, double rewriteShare, long appendBytes,
            long idsBefore, long seed) {
        List<NamespaceEntry> collections = new ArrayList<>();
        for (String ns : SyntheticDocuments.NAMESPACES) {
            collections.add(head.catalog().byName(ns).orElseThrow());
        }
        SplittableRandom random = new SplittableRandom(seed);
        long rewritten = 0;
        for (NamespaceEntry ns : collections) {
            long docs = head.documentCount(ns.id());
            long runLength = (long) Math.ceil(docs * rewriteShare);
            long from = docs - 2 * runLength;
            List<byte[]> replacements = new ArrayList<>();
            try (HeadView view = head.openView(); HeadView.DocumentCursor cursor = view.documents(ns)) {
                long i = 0;
                while (cursor.hasNext() && i < from + runLength) {
                    byte[] doc = cursor.nextBytes();
                    if (i >= from) {
                        replacements.add(fresh.rewrite(SyntheticDocuments.NAMESPACES.indexOf(ns.ns()), doc, 0, random));
                    }
                    i++;
                }
            }
            try (BulkLoader loader = head.bulkLoader(ns.id())) {
                for (byte[] doc : replacements) {
                    loader.add(doc, 0, doc.length);
                }
                loader.finish();
            }
            rewritten += replacements.size();
        }
        long appended = loadDocuments(head, collections, fresh, appendBytes, idsBefore);
        BsonTimestamp ts = head.appliedTs();
        head.initializePosition(OpTime.of(new BsonTimestamp(ts.getTime() + 1, 1)));
        Map<String, Long> out = new LinkedHashMap<>();
        out.put("rewritten", rewritten);
        out.put("appended", appended);
        return out;
    }

    private static long loadDocuments(Head head, List<NamespaceEntry> namespaces, SyntheticDocuments docs, long bytes,
            long idsBefore) {
        BulkLoader[] loaders = new BulkLoader[namespaces.size()];
        long[] count = new long[1];
        try {
            docs.documents(bytes, idsBefore, (ns, buffer, offset, length) -> {
                if (loaders[ns] == null) {
                    loaders[ns] = head.bulkLoader(namespaces.get(ns).id());
                }
                loaders[ns].add(buffer, offset, length);
                count[0]++;
            });
            for (BulkLoader l : loaders) {
                if (l != null) {
                    l.finish();
                }
            }
        } finally {
            for (BulkLoader l : loaders) {
                if (l != null) {
                    l.close();
                }
            }
        }
        return count[0];
    }

    private static RawBsonDocument raw(BsonDocument d) {
        return new RawBsonDocument(d, new BsonDocumentCodec());
    }
}
