package io.tidemark.restore.archive;

import io.tidemark.shared.bson.Bson;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * Encodes the mongodump archive format read by {@code mongorestore --archive}, one piece at a
 * time, so that a backpressured pipeline can interleave framing bytes with document bytes it
 * forwards untouched. The encoder only frames and checksums; it never buffers documents.
 *
 * <h2>Layout (all integers little-endian)</h2>
 * <pre>
 * archive   = magic prelude-header *prelude-entry TERM *(segment | eof)
 * magic     = 6d e2 99 81                         (uint32 0x8199e26d)
 * TERM      = ff ff ff ff
 * prelude-header = {concurrent_collections: int32, version: "0.1",
 *                   server_version: string, tool_version: string}
 * prelude-entry  = {db, collection, metadata: string, size: int32 0, type: string}
 *   metadata = compact canonical Extended JSON v2 of
 *              {options?, indexes: [...], uuid?, collectionName, type} ("" for the oplog)
 * segment   = {db, collection: data-collection, EOF: false, CRC: int64 0} *document TERM
 * eof       = {db, collection: data-collection, EOF: true, CRC: int64 crc} TERM
 * </pre>
 * {@code crc} is CRC-64/ECMA as Go computes it ({@link Crc64Ecma}) over the concatenated bytes
 * of every document of the namespace, across all its segments; headers and terminators are not
 * covered. There is no trailer: the stream ends after the last EOF block.
 *
 * <h2>Rules this encoder enforces, because mongorestore fails or stalls otherwise</h2>
 * <ul>
 *   <li>Every prelude entry gets exactly one EOF block, and nothing of it follows its EOF.
 *       Namespaces without documents (empty collections, views) still get one empty segment
 *       before their EOF, as mongodump writes them: for a view that segment is what makes
 *       mongorestore create it.
 *   <li>Only prelude namespaces appear in segments. A time-series entry's data travels under
 *       {@code system.buckets.<name>} unless the header's server version is 8.3 or newer
 *       ({@link CollectionMetadata#dataCollection}); callers always name the prelude namespace.
 *   <li>Namespaces may interleave at segment granularity, but no more than
 *       {@code concurrent_collections} may be open (started, not yet at EOF) at once: each open
 *       namespace pins a mongorestore worker until its EOF.
 *   <li>The oplog entry, if any, starts only after every other namespace has ended, because
 *       mongorestore stops assigning namespaces once it sees the oplog.
 * </ul>
 * {@code --gzip} compresses the whole byte stream as a single gzip member
 * ({@link GzipStreamCompressor}); nothing inside the archive changes.
 *
 * <p>Not thread-safe: one encoder belongs to one pipeline stage.
 */
public final class ArchiveEncoder {

    static final int MAGIC = 0x8199e26d;
    /** mongorestore's parser rejects any length above this as corruption. */
    public static final int MAX_BSON_SIZE = 16 * 1024 * 1024;

    private static final byte[] TERMINATOR = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};

    private enum Phase { NOT_STARTED, OPEN, ENDED }

    private static final class NamespaceState {
        final CollectionMetadata metadata;
        final byte[] dbUtf8;
        final byte[] dataCollectionUtf8;
        final Crc64Ecma crc = new Crc64Ecma();
        Phase phase = Phase.NOT_STARTED;
        long documents;
        long bytes;

        NamespaceState(CollectionMetadata metadata, String dataCollection) {
            this.metadata = metadata;
            this.dbUtf8 = metadata.namespace().db().getBytes(StandardCharsets.UTF_8);
            this.dataCollectionUtf8 = dataCollection.getBytes(StandardCharsets.UTF_8);
        }
    }

    private final ArchiveHeader header;
    private final List<CollectionMetadata> collections;
    private final Map<Namespace, NamespaceState> states = new LinkedHashMap<>();
    private final Namespace oplog;
    private boolean preludeWritten;
    private NamespaceState block;
    private int openNamespaces;
    private boolean finished;

    public ArchiveEncoder(ArchiveHeader header, List<CollectionMetadata> collections) {
        this.header = Objects.requireNonNull(header, "header");
        this.collections = List.copyOf(collections);
        Map<String, Namespace> dataNamespaces = new LinkedHashMap<>();
        Namespace oplogNs = null;
        for (CollectionMetadata cm : this.collections) {
            String dataCollection = cm.dataCollection(header);
            if (states.putIfAbsent(cm.namespace(), new NamespaceState(cm, dataCollection)) != null) {
                throw new IllegalArgumentException("namespace listed twice: " + cm.namespace());
            }
            Namespace clash = dataNamespaces.putIfAbsent(cm.namespace().db() + "." + dataCollection, cm.namespace());
            if (clash != null) {
                throw new IllegalArgumentException(cm.namespace() + " and " + clash + " would share data namespace "
                        + cm.namespace().db() + "." + dataCollection);
            }
            if (cm.type() == CollectionType.OPLOG) {
                oplogNs = cm.namespace();
            }
        }
        this.oplog = oplogNs;
    }

    public ArchiveHeader header() {
        return header;
    }

    public List<CollectionMetadata> collections() {
        return collections;
    }

    /** Magic number, header, one entry per collection and the terminator. Must come first, once. */
    public byte[] prelude() {
        if (preludeWritten) {
            throw new IllegalStateException("prelude already written");
        }
        List<byte[]> parts = new ArrayList<>(collections.size() + 1);
        parts.add(bson(new BsonDocument()
                .append("concurrent_collections", new BsonInt32(header.concurrentCollections()))
                .append("version", new BsonString(ArchiveHeader.FORMAT_VERSION))
                .append("server_version", new BsonString(header.serverVersion()))
                .append("tool_version", new BsonString(header.toolVersion()))));
        for (CollectionMetadata cm : collections) {
            parts.add(bson(cm.preludeEntry()));
        }
        int size = 4 + TERMINATOR.length;
        for (byte[] p : parts) {
            size += p.length;
        }
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC);
        for (byte[] p : parts) {
            out.put(p);
        }
        out.put(TERMINATOR);
        preludeWritten = true;
        return out.array();
    }

    /** Opens a segment of {@code ns}; its documents follow, then {@link #endBlock()}. */
    public byte[] beginBlock(Namespace ns) {
        requireWritable();
        if (block != null) {
            throw new IllegalStateException("segment of " + block.metadata.namespace() + " still open");
        }
        NamespaceState state = stateOf(ns);
        open(state);
        block = state;
        return namespaceHeader(state, false, 0L);
    }

    /**
     * Accounts for one whole BSON document of the open segment; the caller writes the same bytes
     * to the output unchanged, right after whatever this encoder returned last. Only the framing
     * of the document is checked (length prefix, trailing NUL, size limit): documents come from
     * a server and are not re-parsed here.
     */
    public void document(byte[] bson, int offset, int length) {
        checkFraming(length, readIntLE(bson, offset, length), length > 0 ? bson[offset + length - 1] : 1);
        block.crc.update(bson, offset, length);
        count(length);
    }

    public void document(byte[] bson) {
        document(bson, 0, bson.length);
    }

    /** As {@link #document(byte[], int, int)} for {@code position..limit}; the position is left alone. */
    public void document(ByteBuffer bson) {
        int length = bson.remaining();
        int prefix = length >= 4 ? bson.duplicate().order(ByteOrder.LITTLE_ENDIAN).getInt() : -1;
        checkFraming(length, prefix, length > 0 ? bson.get(bson.limit() - 1) : 1);
        block.crc.update(bson);
        count(length);
    }

    /** Closes the open segment. */
    public byte[] endBlock() {
        requireWritable();
        if (block == null) {
            throw new IllegalStateException("no segment open");
        }
        block = null;
        return TERMINATOR.clone();
    }

    /**
     * Marks the end of {@code ns}: closes its segment if it is the open one, writes an empty
     * segment if it never had one, then the EOF header carrying the checksum.
     */
    public byte[] endNamespace(Namespace ns) {
        requireWritable();
        NamespaceState state = stateOf(ns);
        if (block != null && block != state) {
            throw new IllegalStateException("segment of " + block.metadata.namespace() + " still open");
        }
        if (state.phase == Phase.ENDED) {
            throw new IllegalStateException(ns + " already ended");
        }
        byte[] emptySegment = new byte[0];
        if (state.phase == Phase.NOT_STARTED) {
            open(state);
            emptySegment = namespaceHeader(state, false, 0L);
        }
        byte[] eof = namespaceHeader(state, true, state.crc.value());
        boolean closeBlock = block == state || emptySegment.length > 0;
        ByteBuffer out = ByteBuffer.allocate(emptySegment.length + (closeBlock ? 4 : 0) + eof.length + 4);
        out.put(emptySegment);
        if (closeBlock) {
            out.put(TERMINATOR);
        }
        out.put(eof).put(TERMINATOR);
        block = null;
        state.phase = Phase.ENDED;
        openNamespaces--;
        return out.array();
    }

    /**
     * Checks that the archive is complete. The format has no trailer, so there is nothing to
     * write; the stream simply ends (and, with gzip, the compressor is finished).
     */
    public void finish() {
        requireWritable();
        if (block != null) {
            throw new IllegalStateException("segment of " + block.metadata.namespace() + " still open");
        }
        List<Namespace> unfinished = new ArrayList<>();
        states.forEach((ns, s) -> {
            if (s.phase != Phase.ENDED) {
                unfinished.add(ns);
            }
        });
        if (!unfinished.isEmpty()) {
            throw new IllegalStateException("namespaces without EOF: " + unfinished);
        }
        finished = true;
    }

    /** The namespace whose segment is open, if any. */
    public Optional<Namespace> openBlock() {
        return block == null ? Optional.empty() : Optional.of(block.metadata.namespace());
    }

    /** Checksum of the documents of {@code ns} so far. */
    public long crc(Namespace ns) {
        return stateOf(ns).crc.value();
    }

    public long documentCount(Namespace ns) {
        return stateOf(ns).documents;
    }

    public long documentBytes(Namespace ns) {
        return stateOf(ns).bytes;
    }

    public boolean isFinished() {
        return finished;
    }

    /** The namespaces of the prelude, in prelude order. */
    public List<Namespace> namespaces() {
        return List.copyOf(states.keySet());
    }

    private void open(NamespaceState state) {
        if (state.phase == Phase.ENDED) {
            // mongorestore: "namespace header for already opened namespace"
            throw new IllegalStateException(state.metadata.namespace() + " already ended");
        }
        if (state.phase == Phase.OPEN) {
            return;
        }
        boolean isOplog = state.metadata.namespace().equals(oplog);
        if (isOplog) {
            for (NamespaceState other : states.values()) {
                if (other != state && other.phase != Phase.ENDED) {
                    throw new IllegalStateException("the oplog must come after every other namespace has ended; "
                            + other.metadata.namespace() + " has not");
                }
            }
        } else if (oplog != null && states.get(oplog).phase != Phase.NOT_STARTED) {
            throw new IllegalStateException("no namespace may start after the oplog");
        }
        if (openNamespaces >= header.concurrentCollections()) {
            throw new IllegalStateException("more than concurrent_collections=" + header.concurrentCollections()
                    + " namespaces open; end one before starting " + state.metadata.namespace());
        }
        state.phase = Phase.OPEN;
        openNamespaces++;
    }

    private void checkFraming(int length, int prefix, byte last) {
        requireWritable();
        if (block == null) {
            throw new IllegalStateException("no segment open");
        }
        if (length < 5 || length > MAX_BSON_SIZE) {
            throw new IllegalArgumentException("BSON document of " + length + " bytes is outside 5.." + MAX_BSON_SIZE);
        }
        if (prefix != length) {
            throw new IllegalArgumentException("BSON length prefix " + prefix + " does not match " + length + " bytes given");
        }
        if (last != 0) {
            throw new IllegalArgumentException("BSON document does not end with NUL");
        }
    }

    private void count(int length) {
        block.documents++;
        block.bytes += length;
    }

    private void requireWritable() {
        if (!preludeWritten) {
            throw new IllegalStateException("prelude not written yet");
        }
        if (finished) {
            throw new IllegalStateException("archive already finished");
        }
    }

    private NamespaceState stateOf(Namespace ns) {
        NamespaceState state = states.get(Objects.requireNonNull(ns, "namespace"));
        if (state == null) {
            // mongorestore has no intent for it and aborts
            throw new IllegalArgumentException(ns + " is not in the prelude");
        }
        return state;
    }

    /** {db, collection, EOF, CRC} written by hand: it is emitted per segment and per namespace. */
    private static byte[] namespaceHeader(NamespaceState state, boolean eof, long crc) {
        byte[] db = state.dbUtf8;
        byte[] coll = state.dataCollectionUtf8;
        int size = 4
                + 1 + 3 + 4 + db.length + 1          // 0x02 "db\0" len bytes \0
                + 1 + 11 + 4 + coll.length + 1       // 0x02 "collection\0" len bytes \0
                + 1 + 4 + 1                          // 0x08 "EOF\0" bool
                + 1 + 4 + 8                          // 0x12 "CRC\0" int64
                + 1;
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(size);
        putString(out, "db", db);
        putString(out, "collection", coll);
        out.put((byte) 0x08).put("EOF".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).put((byte) (eof ? 1 : 0));
        out.put((byte) 0x12).put("CRC".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).putLong(crc);
        out.put((byte) 0);
        return out.array();
    }

    private static void putString(ByteBuffer out, String key, byte[] value) {
        out.put((byte) 0x02).put(key.getBytes(StandardCharsets.US_ASCII)).put((byte) 0);
        out.putInt(value.length + 1).put(value).put((byte) 0);
    }

    private static byte[] bson(BsonDocument doc) {
        RawBsonDocument raw = new RawBsonDocument(doc, new BsonDocumentCodec());
        ByteBuffer buf = raw.getByteBuffer().asNIO();
        byte[] out = new byte[buf.remaining()];
        buf.get(out);
        return out;
    }

    private static int readIntLE(byte[] b, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, b.length);
        if (length < 4) {
            return -1;
        }
        return Bson.readInt(b, offset);
    }
}
