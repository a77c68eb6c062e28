package io.tidemark.shared.store;

import com.mongodb.reactivestreams.client.MongoCollection;
import io.tidemark.shared.bson.Zstd;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A zstd-compressed payload kept in a store document. Payloads that would push a document past
 * MongoDB's 16 MB limit (one incompressible 16 MB oplog entry does) continue in part documents,
 * which are written before the main document so that the main document's presence means the
 * whole payload is durable.
 */
final class StoredPayload {

    /** Leaves headroom under MongoDB's 16 MiB document limit for the other fields. */
    static final int PART_BYTES = 8 * 1024 * 1024;

    private StoredPayload() {
    }

    /** Adds {@code data}, {@code rawBytes} and (when needed) {@code parts} to {@code doc}; writes the parts. */
    static Mono<BsonDocument> attach(BsonDocument doc, CompressedPayload payload, MongoCollection<BsonDocument> partsCollection) {
        byte[] compressed = payload.data;
        doc.put("rawBytes", new BsonInt32(payload.rawBytes));
        doc.put("storedBytes", new BsonInt32(compressed.length));
        if (compressed.length <= PART_BYTES) {
            doc.put("data", new BsonBinary(compressed));
            return Mono.just(doc);
        }
        int parts = (compressed.length + PART_BYTES - 1) / PART_BYTES;
        doc.put("parts", new BsonInt32(parts));
        List<BsonDocument> partDocs = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            int from = p * PART_BYTES;
            int to = Math.min(compressed.length, from + PART_BYTES);
            partDocs.add(new BsonDocument("_id", partId(doc.get("_id"), p))
                    .append("data", new BsonBinary(java.util.Arrays.copyOfRange(compressed, from, to))));
        }
        return Flux.fromIterable(partDocs)
                .concatMap(part -> Mono.from(partsCollection.replaceOne(new BsonDocument("_id", part.get("_id")), part,
                        new com.mongodb.client.model.ReplaceOptions().upsert(true))))
                .then(Mono.just(doc));
    }

    /** The uncompressed payload of a stored document, reassembling parts. */
    static Mono<byte[]> read(RawBsonDocument doc, MongoCollection<RawBsonDocument> partsCollection) {
        int rawBytes = doc.getInt32("rawBytes").getValue();
        if (!doc.containsKey("parts")) {
            return Mono.fromCallable(() -> Zstd.decompress(doc.getBinary("data").getData(), rawBytes));
        }
        int parts = doc.getInt32("parts").getValue();
        BsonValue id = doc.get("_id");
        return Flux.range(0, parts)
                .concatMap(p -> Mono.from(partsCollection.find(new BsonDocument("_id", partId(id, p))).first())
                        .switchIfEmpty(Mono.error(new IllegalStateException("payload part " + p + " of " + id + " is missing"))))
                .reduce(new ByteArrayOutputStream(), (out, part) -> {
                    out.writeBytes(part.getBinary("data").getData());
                    return out;
                })
                .map(out -> Zstd.decompress(out.toByteArray(), rawBytes));
    }

    static BsonDocument partId(BsonValue ownerId, int part) {
        return new BsonDocument("of", ownerId).append("part", new BsonInt32(part));
    }

    /** Filter matching every part document of owners whose id matches {@code ownerFilter} fields. */
    static BsonDocument partsOf(String field, BsonValue value) {
        return new BsonDocument("_id.of." + field, value);
    }
}
