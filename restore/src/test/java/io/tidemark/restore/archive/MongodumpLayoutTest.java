package io.tidemark.restore.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.bson.BsonBoolean;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

/**
 * Hand-built archives laid out like ones in mongo-tools' test data (mongorestore/testdata), to
 * pin Tidemark's output to what real mongodump versions wrote. The expected bytes are
 * assembled here from the format rules, not produced by the encoder.
 */
class MongodumpLayoutTest {

    static final byte[] MAGIC = {0x6d, (byte) 0xe2, (byte) 0x99, (byte) 0x81};
    static final byte[] TERM = {-1, -1, -1, -1};

    /** A 100.x-era dump of a 5.0 server: an empty collection, a time-series collection, a one-document collection. */
    @Test
    void encoderReproducesAModernMongodumpArchiveByteForByte() throws IOException {
        String viewsMetadata = "{\"indexes\":[{\"v\":{\"$numberInt\":\"2\"},\"key\":{\"_id\":{\"$numberInt\":\"1\"}},"
                + "\"name\":\"_id_\"}],\"uuid\":\"ef43f3bda67e4d4ab0178bf30cae15e3\",\"collectionName\":\"system.views\","
                + "\"type\":\"collection\"}";
        String tsMetadata = "{\"options\":{\"timeseries\":{\"timeField\":\"ts\",\"metaField\":\"meta\",\"granularity\":\"seconds\","
                + "\"bucketMaxSpanSeconds\":{\"$numberInt\":\"3600\"}}},\"indexes\":[{\"v\":{\"$numberInt\":\"2\"},"
                + "\"key\":{\"meta.device\":{\"$numberInt\":\"1\"}},\"name\":\"meta.device_1\"},{\"v\":{\"$numberInt\":\"2\"},"
                + "\"key\":{\"ts\":{\"$numberInt\":\"1\"},\"meta.device\":{\"$numberInt\":\"1\"}},\"name\":\"ts_1_meta.device_1\"}],"
                + "\"collectionName\":\"foo_ts\",\"type\":\"timeseries\"}";
        String versionMetadata = "{\"indexes\":[{\"v\":{\"$numberInt\":\"2\"},\"key\":{\"_id\":{\"$numberInt\":\"1\"}},"
                + "\"name\":\"_id_\"}],\"uuid\":\"2166e09af3a34889b443b226a582299c\",\"collectionName\":\"system.version\","
                + "\"type\":\"collection\"}";
        byte[] fcv = Bson.bytes("{_id: 'featureCompatibilityVersion', version: '5.0'}");
        byte[] bucket1 = Bson.bytes("{_id: {$oid: '60bfdf53764018491c583714'}, control: {version: 1}, meta: {device: 0}, data: {}}");
        byte[] bucket2 = Bson.bytes("{_id: {$oid: '60bfdf53764018491c583718'}, control: {version: 1}, meta: {device: 1}, data: {}}");

        byte[] expected = Bson.concat(
                MAGIC,
                Bson.bytes(new BsonDocument()
                        .append("concurrent_collections", new BsonInt32(4))
                        .append("version", new BsonString("0.1"))
                        .append("server_version", new BsonString("5.0.0-rc0"))
                        .append("tool_version", new BsonString("100.3.1"))),
                entry("admin", "system.views", viewsMetadata, "collection"),
                entry("timeseries_test", "foo_ts", tsMetadata, "timeseries"),
                entry("admin", "system.version", versionMetadata, "collection"),
                TERM,
                nsHeader("admin", "system.version", false, 0), fcv, TERM,
                nsHeader("admin", "system.version", true, 5808966695042502227L), TERM,
                nsHeader("admin", "system.views", false, 0), TERM,
                nsHeader("admin", "system.views", true, 0), TERM,
                nsHeader("timeseries_test", "system.buckets.foo_ts", false, 0), bucket1, bucket2, TERM,
                nsHeader("timeseries_test", "system.buckets.foo_ts", true,
                        StrictArchiveReader.crc64(StrictArchiveReader.crc64(0, bucket1), bucket2)), TERM);

        List<CollectionMetadata> collections = List.of(
                CollectionMetadata.collection(Namespace.of("admin", "system.views"), new BsonDocument(),
                        List.of(BsonDocument.parse("{v: 2, key: {_id: 1}, name: '_id_'}")), "ef43f3bda67e4d4ab0178bf30cae15e3"),
                CollectionMetadata.timeseries(Namespace.of("timeseries_test", "foo_ts"),
                        BsonDocument.parse("{timeseries: {timeField: 'ts', metaField: 'meta', granularity: 'seconds',"
                                + " bucketMaxSpanSeconds: 3600}}"),
                        List.of(BsonDocument.parse("{v: 2, key: {'meta.device': 1}, name: 'meta.device_1'}"),
                                BsonDocument.parse("{v: 2, key: {ts: 1, 'meta.device': 1}, name: 'ts_1_meta.device_1'}")),
                        null),
                CollectionMetadata.collection(Namespace.of("admin", "system.version"), new BsonDocument(),
                        List.of(BsonDocument.parse("{v: 2, key: {_id: 1}, name: '_id_'}")), "2166e09af3a34889b443b226a582299c"));
        assertEquals(viewsMetadata, collections.get(0).metadataJson());
        assertEquals(tsMetadata, collections.get(1).metadataJson());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ArchiveWriter writer = new ArchiveWriter(out, new ArchiveHeader(4, "5.0.0-rc0", "100.3.1"), collections,
                ArchiveWriter.Compression.NONE)) {
            writer.writeNamespace(Namespace.of("admin", "system.version"), List.of(fcv).iterator());
            writer.endNamespace(Namespace.of("admin", "system.views"));
            writer.writeNamespace(Namespace.of("timeseries_test", "foo_ts"), List.of(bucket1, bucket2).iterator());
        }
        assertArrayEquals(expected, out.toByteArray());

        StrictArchiveReader.Archive read = StrictArchiveReader.read(expected);
        assertEquals(List.of("admin.system.version", "admin.system.views", "timeseries_test.system.buckets.foo_ts"),
                read.namespaceOrder());
    }

    /**
     * A 3.4-era dump (tools r3.4): no {@code type} field, relaxed legacy JSON metadata with
     * {@code ns} in index specs. The EOF checksums are the ones that mongodump wrote.
     */
    @Test
    void strictReaderAcceptsALegacyMongodumpArchive() {
        byte[] fcv = Bson.bytes("{_id: 'featureCompatibilityVersion', version: '3.4'}");
        byte[] bar = Bson.bytes("{_id: {$oid: '58ffb124b721bc6c3234333c'}, foo: 'bar'}");
        byte[] archive = Bson.concat(
                MAGIC,
                Bson.bytes(new BsonDocument()
                        .append("concurrent_collections", new BsonInt32(4))
                        .append("version", new BsonString("0.1"))
                        .append("server_version", new BsonString("3.4.3"))
                        .append("tool_version", new BsonString("r3.4.3"))),
                legacyEntry("test", "bar", "{\"options\":{},\"indexes\":[{\"v\":2,\"key\":{\"_id\":1},\"name\":\"_id_\",\"ns\":\"test.bar\"}]}"),
                legacyEntry("admin", "system.version", "{\"options\":{},\"indexes\":[{\"v\":1,\"key\":{\"_id\":1},\"name\":\"_id_\","
                        + "\"ns\":\"admin.system.version\"},{\"v\":{\"$numberDecimal\":\"2\"},\"key\":{\"version\":1},"
                        + "\"name\":\"incompatible_with_version_32\",\"ns\":\"admin.system.version\"}]}"),
                TERM,
                nsHeader("admin", "system.version", false, 0), fcv, TERM,
                nsHeader("admin", "system.version", true, -682997726120892866L), TERM,
                nsHeader("test", "bar", false, 0), bar, TERM,
                nsHeader("test", "bar", true, -7824457949569593127L), TERM);

        StrictArchiveReader.Archive read = StrictArchiveReader.read(archive);
        assertEquals("3.4.3", read.header().serverVersion());
        assertNull(read.prelude().get(0).type());
        assertArrayEquals(bar, read.data("test.bar").documents.get(0));
        assertArrayEquals(fcv, read.data("admin.system.version").documents.get(0));
    }

    static byte[] entry(String db, String coll, String metadata, String type) {
        return Bson.bytes(new BsonDocument()
                .append("db", new BsonString(db))
                .append("collection", new BsonString(coll))
                .append("metadata", new BsonString(metadata))
                .append("size", new BsonInt32(0))
                .append("type", new BsonString(type)));
    }

    static byte[] legacyEntry(String db, String coll, String metadata) {
        return Bson.bytes(new BsonDocument()
                .append("db", new BsonString(db))
                .append("collection", new BsonString(coll))
                .append("metadata", new BsonString(metadata))
                .append("size", new BsonInt32(0)));
    }

    static byte[] nsHeader(String db, String coll, boolean eof, long crc) {
        return Bson.bytes(new BsonDocument()
                .append("db", new BsonString(db))
                .append("collection", new BsonString(coll))
                .append("EOF", BsonBoolean.valueOf(eof))
                .append("CRC", new BsonInt64(crc)));
    }
}
