package io.tidemark.restore.archive;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.bson.BsonBinaryReader;
import org.bson.BsonDocument;
import org.bson.BsonType;
import org.bson.BsonValue;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.DecoderContext;
import org.bson.json.JsonParseException;

/**
 * An archive parser written from mongo-tools' archive package (parser, prelude, demultiplexer)
 * and spec, independently of {@link ArchiveEncoder}: it repeats no constant or helper of the
 * production code, so a shared misunderstanding cannot make both sides agree.
 *
 * <p>It throws {@link ArchiveFormatException} on everything mongorestore rejects, and on a few
 * things mongorestore lets through but mongodump never writes (marked "stricter" below): that
 * keeps Tidemark's output inside what the real tools produce.
 */
public final class StrictArchiveReader {

    public static final class ArchiveFormatException extends RuntimeException {
        ArchiveFormatException(String message) {
            super(message);
        }

        ArchiveFormatException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public record Header(int concurrentCollections, String version, String serverVersion, String toolVersion) {}

    /** One prelude entry; {@code type} is null for archives from tools older than 100.x. */
    public record PreludeEntry(String db, String collection, String metadata, long size, String type,
                        BsonDocument parsedMetadata) {
        public String namespace() {
            return db + "." + collection;
        }
    }

    /** What arrived for one data namespace ({@code db.system.buckets.x} for old time-series). */
    public static final class NamespaceData {
        public final String db;
        public final String collection;
        public final List<byte[]> documents = new ArrayList<>();
        public int segments;
        public long crc;
        public boolean ended;

        NamespaceData(String db, String collection) {
            this.db = db;
            this.collection = collection;
        }

        public String namespace() {
            return db + "." + collection;
        }
    }

    public record Archive(Header header, List<PreludeEntry> prelude, Map<String, NamespaceData> namespaces,
                   List<String> namespaceOrder) {
        public NamespaceData data(String namespace) {
            NamespaceData d = namespaces.get(namespace);
            if (d == null) {
                throw new AssertionError("no data for " + namespace + "; have " + namespaces.keySet());
            }
            return d;
        }
    }

    private static final byte[] MAGIC = {0x6d, (byte) 0xe2, (byte) 0x99, (byte) 0x81};
    private static final int TERMINATOR = 0xffffffff;
    private static final int MAX_BSON = 16 * 1024 * 1024;
    private static final long[] CRC_TABLE = new long[256];

    static {
        for (int i = 0; i < 256; i++) {
            long c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) == 1 ? (c >>> 1) ^ 0xC96C5795D7870F42L : c >>> 1;
            }
            CRC_TABLE[i] = c;
        }
    }

    private final InputStream in;
    private long offset;

    private StrictArchiveReader(InputStream in) {
        this.in = in;
    }

    public static Archive read(byte[] archive) {
        return read(new ByteArrayInputStream(archive));
    }

    public static Archive readGzip(byte[] gzipped) {
        try {
            return read(new GZIPInputStream(new ByteArrayInputStream(gzipped)));
        } catch (IOException e) {
            throw new ArchiveFormatException("not a gzip stream", e);
        }
    }

    public static Archive read(InputStream in) {
        try {
            return new StrictArchiveReader(in).parse();
        } catch (EOFException e) {
            throw new ArchiveFormatException("truncated archive", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Go's hash/crc64 Update with the ECMA table: inverted before and after. */
    static long crc64(long crc, byte[] bytes) {
        long c = ~crc;
        for (byte b : bytes) {
            c = CRC_TABLE[(int) ((c ^ b) & 0xff)] ^ (c >>> 8);
        }
        return ~c;
    }

    private Archive parse() throws IOException {
        byte[] magic = readFully(4);
        if (!java.util.Arrays.equals(magic, MAGIC)) {
            throw fail("stream or file does not appear to be a mongodump archive");
        }
        Header header = parseHeader(decode(requireDocument("prelude header"), "prelude header"));
        List<PreludeEntry> prelude = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        while (true) {
            byte[] next = readDocumentOrTerminator(true);
            if (next == null) {
                break;
            }
            PreludeEntry entry = parseEntry(decode(next, "prelude entry"));
            if (!seen.add(entry.namespace())) {
                throw fail("namespace listed twice in prelude: " + entry.namespace()); // stricter
            }
            prelude.add(entry);
        }

        int[] version = parseVersion(header.serverVersion());
        boolean viewlessTimeseries = version[0] > 8 || (version[0] == 8 && version[1] >= 3);
        Map<String, NamespaceData> data = new LinkedHashMap<>();
        for (PreludeEntry e : prelude) {
            String coll = "timeseries".equals(e.type()) && !viewlessTimeseries
                    ? "system.buckets." + e.collection() : e.collection();
            NamespaceData d = new NamespaceData(e.db(), coll);
            if (data.put(d.namespace(), d) != null) {
                throw fail("two prelude entries share data namespace " + d.namespace());
            }
        }

        List<String> order = new ArrayList<>();
        int open = 0;
        boolean oplogSeen = false;
        while (true) {
            byte[] headerBytes = readDocumentOrTerminatorAtBlockStart();
            if (headerBytes == null) {
                break; // clean end of stream between blocks
            }
            BsonDocument nsHeader = decode(headerBytes, "namespace header");
            String db = requireString(nsHeader, "db", "namespace header");
            String coll = requireString(nsHeader, "collection", "namespace header");
            if (!nsHeader.containsKey("EOF") || nsHeader.get("EOF").getBsonType() != BsonType.BOOLEAN) {
                throw fail("namespace header EOF must be a boolean: " + nsHeader.toJson());
            }
            if (!nsHeader.containsKey("CRC") || nsHeader.get("CRC").getBsonType() != BsonType.INT64) {
                throw fail("namespace header CRC must be int64: " + nsHeader.toJson());
            }
            onlyKeys(nsHeader, Set.of("db", "collection", "EOF", "CRC"), "namespace header");
            if (coll.isEmpty()) {
                throw fail("collection header is missing a Collection");
            }
            boolean eof = nsHeader.getBoolean("EOF").getValue();
            long crc = nsHeader.getInt64("CRC").getValue();
            String ns = db + "." + coll;
            NamespaceData d = data.get(ns);
            if (d == null) {
                throw fail("no intent for namespace " + ns + " (not in prelude)");
            }
            if (d.ended) {
                throw fail("namespace header for already opened namespace " + ns);
            }
            boolean isOplog = db.isEmpty() && coll.equals("oplog");
            if (d.segments == 0 && !isOplog && oplogSeen) {
                throw fail("namespace " + ns + " starts after the oplog; mongorestore would not restore it");
            }
            if (!eof) {
                if (crc != 0) {
                    throw fail("non-EOF namespace header with CRC " + crc); // stricter: spec says always 0
                }
                if (d.segments == 0) {
                    order.add(ns);
                    open++;
                    if (open > header.concurrentCollections()) {
                        // stricter: mongorestore would only risk stalling
                        throw fail(open + " namespaces open at once, more than concurrent_collections");
                    }
                    oplogSeen |= isOplog;
                }
                d.segments++;
                byte[] body;
                while ((body = readDocumentOrTerminator(false)) != null) {
                    decode(body, "document of " + ns);
                    d.documents.add(body);
                    d.crc = crc64(d.crc, body);
                }
            } else {
                if (d.segments == 0) {
                    // stricter: mongodump always writes a (possibly empty) segment first, and for a
                    // view that segment is what triggers its creation
                    throw fail("EOF for " + ns + " without any data segment");
                }
                if (crc != d.crc) {
                    throw fail("CRC mismatch for namespace " + ns + ", " + d.crc + "!=" + crc);
                }
                d.ended = true;
                open--;
                byte[] afterEof = readDocumentOrTerminator(false);
                if (afterEof != null) {
                    throw fail("collection data without a collection header (after EOF of " + ns + ")");
                }
            }
        }
        List<String> unfinished = new ArrayList<>();
        for (NamespaceData d : data.values()) {
            if (!d.ended) {
                unfinished.add(d.namespace());
            }
        }
        if (!unfinished.isEmpty()) {
            throw fail("archive finished before all collections were seen " + unfinished);
        }
        return new Archive(header, List.copyOf(prelude), data, order);
    }

    private Header parseHeader(BsonDocument doc) {
        onlyKeys(doc, Set.of("concurrent_collections", "version", "server_version", "tool_version"), "prelude header");
        if (!doc.isInt32("concurrent_collections")) {
            throw fail("concurrent_collections must be int32");
        }
        int cc = doc.getInt32("concurrent_collections").getValue();
        if (cc < 1) {
            throw fail("concurrent_collections must be positive"); // stricter
        }
        String version = requireString(doc, "version", "prelude header");
        if (!version.equals("0.1")) {
            throw fail("unknown archive format version " + version);
        }
        String serverVersion = requireString(doc, "server_version", "prelude header");
        parseVersion(serverVersion);
        return new Header(cc, version, serverVersion, requireString(doc, "tool_version", "prelude header"));
    }

    private PreludeEntry parseEntry(BsonDocument doc) {
        onlyKeys(doc, Set.of("db", "collection", "metadata", "size", "type"), "prelude entry");
        String db = requireString(doc, "db", "prelude entry");
        String coll = requireString(doc, "collection", "prelude entry");
        String metadata = requireString(doc, "metadata", "prelude entry");
        BsonValue size = doc.get("size");
        if (size == null || !(size.isInt32() || size.isInt64()) || size.asNumber().longValue() < 0) {
            throw fail("prelude entry size must be a non-negative integer: " + doc.toJson());
        }
        String type = doc.containsKey("type") ? requireString(doc, "type", "prelude entry") : null;
        if (type != null && !Set.of("", "collection", "view", "timeseries").contains(type)) {
            throw fail("unknown collection type " + type);
        }
        if (coll.isEmpty() || db.contains(".")) {
            throw fail("bad namespace in prelude: " + db + "." + coll);
        }
        BsonDocument parsed = metadata.isEmpty() ? null : parseMetadata(metadata, db, coll, type);
        if (metadata.isEmpty() && !(db.isEmpty() && coll.equals("oplog"))) {
            throw fail("empty metadata for " + db + "." + coll); // stricter: only the oplog has none
        }
        return new PreludeEntry(db, coll, metadata, size.asNumber().longValue(), type, parsed);
    }

    private BsonDocument parseMetadata(String json, String db, String coll, String type) {
        BsonDocument meta;
        try {
            meta = BsonDocument.parse(json);
        } catch (JsonParseException | org.bson.BsonInvalidOperationException e) {
            throw fail("metadata of " + db + "." + coll + " is not Extended JSON: " + e.getMessage());
        }
        onlyKeys(meta, Set.of("options", "indexes", "uuid", "collectionName", "type"), "metadata");
        if (meta.containsKey("options") && !meta.isDocument("options")) {
            throw fail("metadata options must be a document");
        }
        if (!meta.isArray("indexes")) {
            throw fail("metadata indexes must be an array");
        }
        for (BsonValue spec : meta.getArray("indexes")) {
            if (!spec.isDocument() || !spec.asDocument().isDocument("key") || !spec.asDocument().isString("name")) {
                throw fail("index spec needs key and name: " + spec);
            }
        }
        if (meta.containsKey("uuid")) {
            String uuid = requireString(meta, "uuid", "metadata");
            if (!uuid.matches("[0-9a-f]{32}")) {
                throw fail("uuid is not 32 hex digits: " + uuid);
            }
        }
        if (meta.containsKey("collectionName") && !requireString(meta, "collectionName", "metadata").equals(coll)) {
            throw fail("collectionName disagrees with prelude for " + coll);
        }
        if (meta.containsKey("type") && !requireString(meta, "type", "metadata").equals(type)) {
            throw fail("metadata type disagrees with prelude type for " + coll);
        }
        BsonDocument options = meta.containsKey("options") ? meta.getDocument("options") : new BsonDocument();
        if ("view".equals(type) && (!options.isString("viewOn") || !options.isArray("pipeline"))) {
            throw fail("view " + coll + " lacks viewOn/pipeline");
        }
        if ("timeseries".equals(type) && !options.isDocument("timeseries")) {
            throw fail("time-series " + coll + " lacks options.timeseries");
        }
        return meta;
    }

    /** At a block boundary a clean end of stream is allowed; a terminator is not. */
    private byte[] readDocumentOrTerminatorAtBlockStart() throws IOException {
        byte[] len = new byte[4];
        int n = in.readNBytes(len, 0, 4);
        offset += n;
        if (n == 0) {
            return null;
        }
        if (n < 4) {
            throw fail("stray bytes at end of archive");
        }
        int size = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (size == TERMINATOR) {
            throw fail("consecutive terminators / headerless blocks are not allowed");
        }
        return readRestOfDocument(len, size);
    }

    /** Inside a block: a document, or null for the terminator; end of stream is truncation. */
    private byte[] readDocumentOrTerminator(boolean prelude) throws IOException {
        byte[] len = readFully(4);
        int size = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (size == TERMINATOR) {
            return null;
        }
        return readRestOfDocument(len, size);
    }

    private byte[] requireDocument(String what) throws IOException {
        byte[] doc = readDocumentOrTerminator(true);
        if (doc == null) {
            throw fail("terminator where the " + what + " should be");
        }
        return doc;
    }

    private byte[] readRestOfDocument(byte[] len, int size) throws IOException {
        if (size < 5 || size > MAX_BSON) {
            throw fail(Integer.toUnsignedString(size) + " is neither a valid bson length nor a archive terminator");
        }
        byte[] doc = new byte[size];
        System.arraycopy(len, 0, doc, 0, 4);
        int n = in.readNBytes(doc, 4, size - 4);
        offset += n;
        if (n != size - 4) {
            throw new EOFException("document cut short at offset " + offset);
        }
        if (doc[size - 1] != 0) {
            throw fail("bson doesn't end with a null byte");
        }
        return doc;
    }

    private byte[] readFully(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        offset += b.length;
        if (b.length != n) {
            throw new EOFException("archive cut short at offset " + offset);
        }
        return b;
    }

    private BsonDocument decode(byte[] bson, String what) {
        try (BsonBinaryReader reader = new BsonBinaryReader(ByteBuffer.wrap(bson))) {
            BsonDocument doc = new BsonDocumentCodec().decode(reader, DecoderContext.builder().build());
            if (reader.getBsonInput().getPosition() != bson.length) {
                throw fail(what + " has trailing bytes inside its length");
            }
            return doc;
        } catch (org.bson.BSONException | IllegalStateException e) {
            throw fail(what + " is not valid BSON: " + e.getMessage());
        }
    }

    private void onlyKeys(BsonDocument doc, Set<String> allowed, String what) {
        for (String key : doc.keySet()) {
            if (!allowed.contains(key)) {
                throw fail("unknown field " + key + " in " + what);
            }
        }
    }

    private String requireString(BsonDocument doc, String key, String what) {
        if (!doc.isString(key)) {
            throw fail(what + " field " + key + " must be a string: " + doc.toJson());
        }
        return doc.getString(key).getValue();
    }

    private int[] parseVersion(String v) {
        String core = v.split("-", 2)[0].split("\\+", 2)[0];
        String[] parts = core.split("\\.", 3);
        if (parts.length != 3) {
            throw fail("parse version from prelude: invalid version string " + v);
        }
        int[] out = new int[3];
        for (int i = 0; i < 3; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw fail("parse version from prelude: invalid version string " + v);
            }
        }
        return out;
    }

    private ArchiveFormatException fail(String message) {
        return new ArchiveFormatException("corruption found in archive near offset " + offset + "; " + message);
    }
}
