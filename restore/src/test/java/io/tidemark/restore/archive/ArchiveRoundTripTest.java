package io.tidemark.restore.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Encodes a varied set of collections and reads it back with the strict reader. */
class ArchiveRoundTripTest {

    static final ArchiveHeader HEADER = new ArchiveHeader(4, "7.0.14", "tidemark-test");

    static final Namespace EMPTY = Namespace.of("shop", "empty");
    static final Namespace VIEW = Namespace.of("shop", "openOrders");
    static final Namespace CAPPED = Namespace.of("shop", "events");
    static final Namespace ORDERS = Namespace.of("shop", "orders");
    static final Namespace BLOBS = Namespace.of("shop", "blobs");
    static final Namespace DOTTED = Namespace.of("shop", "a.b.c");
    static final Namespace UNICODE = Namespace.of("données", "日本語.コレクション");
    static final Namespace WEATHER = Namespace.of("metrics", "weather");

    static List<CollectionMetadata> collections;
    static Map<Namespace, List<byte[]>> documents;
    static byte[] archive;

    @BeforeAll
    static void writeArchive() throws IOException {
        collections = List.of(
                CollectionMetadata.collection(EMPTY, new BsonDocument(), List.of(idIndex()), uuid(1)),
                CollectionMetadata.view(VIEW, BsonDocument.parse(
                        "{viewOn: 'orders', pipeline: [{$match: {status: 'open'}}], collation: {locale: 'fr', strength: 2}}")),
                CollectionMetadata.collection(CAPPED, new BsonDocument()
                        .append("capped", BsonBoolean.TRUE)
                        .append("size", new BsonInt64(1_048_576))
                        .append("max", new BsonInt32(1000)), List.of(idIndex()), uuid(2)),
                CollectionMetadata.collection(ORDERS,
                        BsonDocument.parse("{validator: {$jsonSchema: {bsonType: 'object', required: ['email']}},"
                                + " validationLevel: 'strict', validationAction: 'error'}"),
                        List.of(idIndex(),
                                BsonDocument.parse("{v: 2, key: {email: 1}, name: 'email_1', unique: true}"),
                                BsonDocument.parse("{v: 2, key: {status: 1, createdAt: -1}, name: 'status_1_createdAt_-1',"
                                        + " partialFilterExpression: {status: {$exists: true}}}"),
                                BsonDocument.parse("{v: 2, key: {createdAt: 1}, name: 'createdAt_1', expireAfterSeconds: 3600}"),
                                BsonDocument.parse("{v: 2, key: {_fts: 'text', _ftsx: 1}, name: 'notes_text',"
                                        + " weights: {notes: 1}, default_language: 'english', language_override: 'language',"
                                        + " textIndexVersion: 3}")),
                        uuid(3)),
                CollectionMetadata.collection(BLOBS, new BsonDocument(), List.of(idIndex()), uuid(4)),
                CollectionMetadata.collection(DOTTED, new BsonDocument(), List.of(idIndex()), null),
                CollectionMetadata.collection(UNICODE, new BsonDocument(), List.of(idIndex()), uuid(5)),
                CollectionMetadata.timeseries(WEATHER,
                        BsonDocument.parse("{timeseries: {timeField: 'ts', metaField: 'station', granularity: 'hours',"
                                + " bucketMaxSpanSeconds: 2592000}, expireAfterSeconds: {$numberLong: '86400'}}"),
                        List.of(BsonDocument.parse("{v: 2, key: {station: 1, ts: 1}, name: 'station_1_ts_1'}")), null));

        documents = new LinkedHashMap<>();
        documents.put(EMPTY, List.of());
        documents.put(VIEW, List.of());
        documents.put(CAPPED, numbered(50, "event"));
        documents.put(ORDERS, numbered(1000, "order"));
        documents.put(BLOBS, List.of(blob(1, 1024 * 1024), blob(2, 3 * 1024 * 1024),
                blobOfExactSize(3, ArchiveEncoder.MAX_BSON_SIZE)));
        documents.put(DOTTED, numbered(3, "dot"));
        documents.put(UNICODE, List.of(Bson.bytes("{_id: 'ключ', 'ключ': 'значение ✓ 😀'}")));
        documents.put(WEATHER, List.of(
                Bson.bytes("{_id: {$oid: '60bfdf53764018491c583714'}, control: {version: 1}, meta: 'KSEA', data: {}}"),
                Bson.bytes("{_id: {$oid: '60bfdf53764018491c583718'}, control: {version: 1}, meta: 'KPDX', data: {}}")));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArchiveWriter writer = new ArchiveWriter(out, HEADER, collections, ArchiveWriter.Compression.NONE)) {
            for (var e : documents.entrySet()) {
                writer.writeNamespace(e.getKey(), e.getValue().iterator());
            }
        }
        archive = out.toByteArray();
    }

    @Test
    void preludeCarriesHeaderAndEveryCollection() {
        StrictArchiveReader.Archive read = StrictArchiveReader.read(archive);
        assertEquals(new StrictArchiveReader.Header(4, "0.1", "7.0.14", "tidemark-test"), read.header());
        assertEquals(collections.size(), read.prelude().size());
        for (int i = 0; i < collections.size(); i++) {
            CollectionMetadata cm = collections.get(i);
            StrictArchiveReader.PreludeEntry entry = read.prelude().get(i);
            assertEquals(cm.namespace().db(), entry.db());
            assertEquals(cm.namespace().collection(), entry.collection());
            assertEquals(cm.type().wireName(), entry.type());
            assertEquals(cm.metadataJson(), entry.metadata());
            assertEquals(0, entry.size());
            BsonDocument parsed = entry.parsedMetadata();
            assertEquals(cm.options().isEmpty() ? null : cm.options(), parsed.get("options"));
            assertEquals(new BsonArray(new ArrayList<>(cm.indexes())), parsed.get("indexes"));
            assertEquals(cm.uuid() == null ? null : new BsonString(cm.uuid()), parsed.get("uuid"));
            assertEquals(new BsonString(cm.namespace().collection()), parsed.get("collectionName"));
        }
    }

    @Test
    void everyDocumentComesBackByteForByte() {
        StrictArchiveReader.Archive read = StrictArchiveReader.read(archive);
        for (var e : documents.entrySet()) {
            String dataNs = e.getKey().equals(WEATHER) ? "metrics.system.buckets.weather" : e.getKey().toString();
            StrictArchiveReader.NamespaceData data = read.data(dataNs);
            assertEquals(e.getValue().size(), data.documents.size(), dataNs);
            for (int i = 0; i < e.getValue().size(); i++) {
                assertArrayEquals(e.getValue().get(i), data.documents.get(i), dataNs + " #" + i);
            }
            assertEquals(1, data.segments, "sequential writing gives one segment per namespace: " + dataNs);
        }
        assertEquals(documents.keySet().stream()
                .map(ns -> ns.equals(WEATHER) ? "metrics.system.buckets.weather" : ns.toString()).toList(),
                read.namespaceOrder());
    }

    @Test
    void exactMetadataTextForACappedCollection() {
        assertEquals("{\"options\":{\"capped\":true,\"size\":{\"$numberLong\":\"1048576\"},\"max\":{\"$numberInt\":\"1000\"}},"
                + "\"indexes\":[{\"v\":{\"$numberInt\":\"2\"},\"key\":{\"_id\":{\"$numberInt\":\"1\"}},\"name\":\"_id_\"}],"
                + "\"uuid\":\"" + uuid(2) + "\",\"collectionName\":\"events\",\"type\":\"collection\"}",
                collections.get(2).metadataJson());
        assertEquals("{\"options\":{\"viewOn\":\"orders\",\"pipeline\":[{\"$match\":{\"status\":\"open\"}}],"
                + "\"collation\":{\"locale\":\"fr\",\"strength\":{\"$numberInt\":\"2\"}}},"
                + "\"indexes\":[],\"collectionName\":\"openOrders\",\"type\":\"view\"}",
                collections.get(1).metadataJson());
        assertEquals("{\"indexes\":[{\"v\":{\"$numberInt\":\"2\"},\"key\":{\"_id\":{\"$numberInt\":\"1\"}},\"name\":\"_id_\"}],"
                + "\"collectionName\":\"a.b.c\",\"type\":\"collection\"}",
                collections.get(5).metadataJson());
    }

    @Test
    void gzipIsOneStreamOverTheWholeArchive() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArchiveWriter writer = new ArchiveWriter(out, HEADER, collections, ArchiveWriter.Compression.GZIP)) {
            for (var e : documents.entrySet()) {
                writer.writeNamespace(e.getKey(), e.getValue().iterator());
            }
        }
        byte[] gz = out.toByteArray();
        assertEquals(0x1f, gz[0] & 0xff);
        assertEquals(0x8b, gz[1] & 0xff);
        assertArrayEquals(archive, gunzip(gz), "same archive bytes inside the gzip stream");
        StrictArchiveReader.Archive read = StrictArchiveReader.readGzip(gz);
        assertEquals(collections.size(), read.prelude().size());
        assertArrayEquals(documents.get(BLOBS).get(2), read.data(BLOBS.toString()).documents.get(2));
    }

    @Test
    void pipelineStyleEncodingMatchesTheWriter() throws IOException {
        ArchiveEncoder encoder = new ArchiveEncoder(HEADER, collections);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(encoder.prelude());
        for (var e : documents.entrySet()) {
            if (!e.getValue().isEmpty()) {
                out.write(encoder.beginBlock(e.getKey()));
                for (byte[] doc : e.getValue()) {
                    // as a Vert.x/Netty pipeline would hand them over: no copy, position untouched
                    ByteBuffer view = ByteBuffer.wrap(doc).asReadOnlyBuffer();
                    encoder.document(view);
                    assertEquals(0, view.position());
                    out.write(doc);
                }
            }
            out.write(encoder.endNamespace(e.getKey()));
        }
        encoder.finish();
        assertArrayEquals(archive, out.toByteArray());
        assertEquals(StrictArchiveReader.crc64(0, Bson.concat(documents.get(ORDERS).toArray(byte[][]::new))),
                encoder.crc(ORDERS));
        assertEquals(1000, encoder.documentCount(ORDERS));
    }

    @Test
    void incrementalGzipOfPipelineChunksDecompressesToTheArchive() throws IOException {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GzipStreamCompressor gzip = new GzipStreamCompressor()) {
            int chunk = 7919; // odd chunk size, to cross every kind of boundary
            for (int at = 0; at < archive.length; at += chunk) {
                int n = Math.min(chunk, archive.length - at);
                gz.write(at % 2 == 0
                        ? gzip.compress(archive, at, n)
                        : gzip.compress(ByteBuffer.allocateDirect(n).put(archive, at, n).flip()));
            }
            gz.write(gzip.finish());
        }
        assertArrayEquals(archive, gunzip(gz.toByteArray()));
    }

    @Test
    void viewlessTimeseriesFromEightThreeOnTravelsUnderItsOwnName() throws IOException {
        ArchiveHeader h83 = new ArchiveHeader(1, "8.3.0-rc1", "tidemark-test");
        CollectionMetadata ts = collections.get(7);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArchiveWriter writer = new ArchiveWriter(out, h83, List.of(ts), ArchiveWriter.Compression.NONE)) {
            writer.writeNamespace(WEATHER, documents.get(WEATHER).iterator());
        }
        StrictArchiveReader.Archive read = StrictArchiveReader.read(out.toByteArray());
        assertEquals(2, read.data("metrics.weather").documents.size());
        assertEquals(List.of("metrics.weather"), read.namespaceOrder());
    }

    @Test
    void interleavedSegmentsKeepPerNamespaceChecksums() throws IOException {
        List<CollectionMetadata> two = List.of(collections.get(3), collections.get(2));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArchiveWriter writer = new ArchiveWriter(out, HEADER, two, ArchiveWriter.Compression.NONE)) {
            List<byte[]> orders = documents.get(ORDERS);
            List<byte[]> events = documents.get(CAPPED);
            for (int i = 0; i < 50; i++) {
                writer.write(ORDERS, orders.get(i));
                writer.write(CAPPED, events.get(i));
            }
            writer.endNamespace(CAPPED);
            for (int i = 50; i < orders.size(); i++) {
                writer.write(ORDERS, orders.get(i));
            }
            writer.endNamespace(ORDERS);
        }
        StrictArchiveReader.Archive read = StrictArchiveReader.read(out.toByteArray());
        assertEquals(51, read.data(ORDERS.toString()).segments);
        assertEquals(50, read.data(CAPPED.toString()).segments);
        for (int i = 0; i < 1000; i++) {
            assertArrayEquals(documents.get(ORDERS).get(i), read.data(ORDERS.toString()).documents.get(i));
        }
    }

    @Test
    void archiveWithoutCollectionsIsPreludeOnly() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new ArchiveWriter(out, HEADER, List.of(), ArchiveWriter.Compression.NONE).close();
        StrictArchiveReader.Archive read = StrictArchiveReader.read(out.toByteArray());
        assertEquals(List.of(), read.prelude());
        assertEquals(4 + Bson.bytes(new BsonDocument()
                .append("concurrent_collections", new BsonInt32(4))
                .append("version", new BsonString("0.1"))
                .append("server_version", new BsonString("7.0.14"))
                .append("tool_version", new BsonString("tidemark-test"))).length + 4, out.size());
    }

    @Test
    void oplogEntryComesLastWithEmptyMetadata() throws IOException {
        List<CollectionMetadata> withOplog = List.of(collections.get(2), CollectionMetadata.oplog());
        byte[] op = Bson.bytes("{ts: {$timestamp: {t: 1700000000, i: 1}}, op: 'n', ns: '', o: {msg: 'noop'}}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArchiveWriter writer = new ArchiveWriter(out, HEADER, withOplog, ArchiveWriter.Compression.NONE)) {
            writer.writeNamespace(CAPPED, documents.get(CAPPED).iterator());
            writer.writeNamespace(Namespace.of("", "oplog"), List.of(op).iterator());
        }
        StrictArchiveReader.Archive read = StrictArchiveReader.read(out.toByteArray());
        assertEquals("", read.prelude().get(1).metadata());
        assertEquals("", read.prelude().get(1).type());
        assertNull(read.prelude().get(1).parsedMetadata());
        assertArrayEquals(op, read.data(".oplog").documents.get(0));
    }

    static BsonDocument idIndex() {
        return BsonDocument.parse("{v: 2, key: {_id: 1}, name: '_id_'}");
    }

    static String uuid(int n) {
        return CollectionMetadata.uuidHex(new UUID(0x1234_5678_9abc_def0L + n, 0x0fed_cba9_8765_4321L * n));
    }

    static List<byte[]> numbered(int count, String prefix) {
        List<byte[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(Bson.bytes(new BsonDocument()
                    .append("_id", new BsonInt32(i))
                    .append("name", new BsonString(prefix + "-" + i))
                    .append("email", new BsonString(prefix + i + "@example.com"))));
        }
        return out;
    }

    static byte[] blob(int id, int payload) {
        byte[] data = new byte[payload];
        new java.util.Random(id).nextBytes(data);
        return Bson.bytes(new BsonDocument().append("_id", new BsonInt32(id)).append("b", new BsonBinary(data)));
    }

    /** {_id: int32, b: binary} has 22 bytes of overhead around the payload. */
    static byte[] blobOfExactSize(int id, int size) {
        byte[] doc = blob(id, size - 22);
        assertEquals(size, doc.length);
        return doc;
    }

    static byte[] gunzip(byte[] gz) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }
}
