package io.tidemark.shared.snapshots;

import static com.mongodb.client.model.Filters.and;
import static com.mongodb.client.model.Filters.eq;
import static com.mongodb.client.model.Filters.gte;
import static com.mongodb.client.model.Filters.lt;

import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.reactivestreams.client.MongoCollection;
import com.mongodb.reactivestreams.client.MongoDatabase;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.oplog.OpTime;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bson.BsonArray;
import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.BsonValue;
import org.bson.UuidRepresentation;
import org.bson.conversions.Bson;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Manifests in the blockstore DB: a header document per snapshot in {@code manifests} and its
 * block references in {@code manifest_pages}, {@value #PAGE_REFS} references a page.
 *
 * <p>Pages keep every document far below MongoDB's 16 MB limit whatever the head size (a page
 * is about 400 KB) and let references be written while the snapshot runs and read back as a
 * stream, so neither side holds a namespace's references in memory. A page packs each
 * reference as 32 bytes of block id, the uncompressed length and the stored length (int32
 * little-endian each): raw binary, because millions of references as sub-documents would
 * cost ten times the space and the decoding time.
 *
 * <p>Page ids are {@code <snapshot>/<namespace index, 5 digits>/<page, 8 digits>}, so the pages
 * of a namespace, and of a whole snapshot, are one ordered range of the {@code _id} index.
 *
 * <p>Each page carries the SHA-256 of its packed references ({@code sha256}), checked on every
 * read: a damaged page fails its reader with a {@link CorruptManifestPageException} naming the
 * snapshot, namespace and page, instead of handing on block ids that were never written. Pages
 * written before the digest existed have none and are read as they are.
 *
 * <p>Pages written with {@link #writeIndexedRefs} also carry the key index of their blocks
 * ({@code starts}: per reference, the offset and head key of the first record starting in the
 * block, see {@link BlockStart}) and the page's first such key ({@code firstKey}), so a lookup
 * of one document reads the small page summaries, one page and one block per level, never a
 * namespace. Pages without {@code starts} (written before the index, or by tools) are read as
 * before; a lookup in them falls back to reading the namespace.
 *
 * <p>Writers must write the pages before the header: a header is the promise that all pages
 * it counts are there. Visibility to users is the catalog's job ({@link SnapshotCatalog}).
 */
public final class ManifestStore {

    public static final String MANIFESTS = "manifests";
    public static final String PAGES = "manifest_pages";
    public static final int PAGE_REFS = 10_000;

    static final int REF_BYTES = BlockId.LENGTH + 4 + 4;
    /** Pages per reply: a few MB, well under the 48 MB a driver accepts in one reply. */
    private static final int PAGE_BATCH = 8;

    private final MongoCollection<BsonDocument> manifests;
    private final MongoCollection<BsonDocument> pages;

    public ManifestStore(MongoDatabase blockstoreDb) {
        Objects.requireNonNull(blockstoreDb, "blockstoreDb");
        this.manifests = blockstoreDb.getCollection(MANIFESTS, BsonDocument.class);
        this.pages = blockstoreDb.getCollection(PAGES, BsonDocument.class);
    }

    /**
     * Writes the references of one namespace as pages, in order, as they arrive; completes with
     * the number of pages written. Pages are written one at a time, so a slow database holds
     * back the producer instead of filling memory.
     */
    public Mono<Integer> writeRefs(String snapshotId, int nsIndex, Flux<BlockRef> refs) {
        return refs.buffer(PAGE_REFS)
                .index()
                .concatMap(page -> Mono.from(pages.insertOne(pageDocument(snapshotId, nsIndex,
                        page.getT1().intValue(), page.getT2()))), 1)
                .count()
                .map(Long::intValue);
    }

    /**
     * The same, with each reference's key index entry ({@link BlockStart}): the pages then answer
     * lookups by key ({@link #pageSummaries}, {@link #page}).
     */
    public Mono<Integer> writeIndexedRefs(String snapshotId, int nsIndex, Flux<BlockStart.Indexed> refs) {
        return refs.buffer(PAGE_REFS)
                .index()
                .concatMap(page -> {
                    List<BlockRef> plain = new ArrayList<>(page.getT2().size());
                    for (BlockStart.Indexed r : page.getT2()) {
                        plain.add(r.ref());
                    }
                    BsonDocument d = pageDocument(snapshotId, nsIndex, page.getT1().intValue(), plain);
                    appendStarts(d, page.getT2());
                    return Mono.from(pages.insertOne(d));
                }, 1)
                .count()
                .map(Long::intValue);
    }

    /** One page's summary: enough to choose the page a key falls in without reading references. */
    public record PageSummary(int page, int count, byte[] firstKey, boolean indexed) {
    }

    /** The summaries of a namespace's pages, in order (each a few dozen bytes). */
    public Flux<PageSummary> pageSummaries(String snapshotId, int nsIndex) {
        String prefix = nsPrefix(snapshotId, nsIndex);
        return Flux.from(pages.find(range(prefix)).projection(com.mongodb.client.model.Projections.include(
                                "page", "count", "firstKey", "indexed"))
                        .sort(Sorts.ascending("_id")))
                .map(d -> new PageSummary(d.getInt32("page").getValue(), d.getInt32("count").getValue(),
                        d.containsKey("firstKey") ? d.getBinary("firstKey").getData() : null,
                        d.getBoolean("indexed", org.bson.BsonBoolean.FALSE).getValue()));
    }

    /** One page's references with their key index entries (null starts when the page has no index). */
    public Mono<List<BlockStart.Indexed>> page(String snapshotId, int nsIndex, int pageNo) {
        String id = nsPrefix(snapshotId, nsIndex) + String.format("%08d", pageNo);
        return Mono.from(pages.find(eq("_id", id)).first()).map(ManifestStore::decodeIndexedPage);
    }

    /** Every reference of a namespace with its key index entry, in order (to copy a namespace's pages whole). */
    public Flux<BlockStart.Indexed> indexedRefs(String snapshotId, int nsIndex) {
        String prefix = nsPrefix(snapshotId, nsIndex);
        return Flux.from(pages.find(range(prefix)).sort(Sorts.ascending("_id")).batchSize(PAGE_BATCH))
                .flatMapIterable(ManifestStore::decodeIndexedPage);
    }

    /** Whether every page of the namespace carries the key index (a namespace without pages does). */
    public static boolean indexed(List<PageSummary> summaries) {
        return summaries.stream().allMatch(PageSummary::indexed);
    }

    private static void appendStarts(BsonDocument page, List<BlockStart.Indexed> refs) {
        int size = 0;
        for (BlockStart.Indexed r : refs) {
            size += 4 + (r.start() == null ? 0 : 4 + r.start().key().length);
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        byte[] first = null;
        for (BlockStart.Indexed r : refs) {
            if (r.start() == null) {
                b.putInt(-1);
            } else {
                b.putInt(r.start().offset()).putInt(r.start().key().length).put(r.start().key());
                first = first == null ? r.start().key() : first;
            }
        }
        page.append("starts", new BsonBinary(b.array()))
                .append("startsSha256", new BsonBinary(BlockId.of(b.array()).bytes()))
                .append("indexed", org.bson.BsonBoolean.TRUE);
        if (first != null) {
            page.append("firstKey", new BsonBinary(first));
        }
    }

    static List<BlockStart.Indexed> decodeIndexedPage(BsonDocument page) {
        List<BlockRef> refs = decodePage(page);
        List<BlockStart.Indexed> out = new ArrayList<>(refs.size());
        BsonValue starts = page.get("starts");
        ByteBuffer in = starts != null && starts.isBinary()
                ? ByteBuffer.wrap(starts.asBinary().getData()).order(ByteOrder.LITTLE_ENDIAN) : null;
        BsonValue digest = page.get("startsSha256");
        if (in != null && (digest == null || !digest.isBinary()
                || !java.util.Arrays.equals(digest.asBinary().getData(), BlockId.of(starts.asBinary().getData()).bytes()))) {
            throw CorruptManifestPageException.of(page, "its key index does not match its checksum");
        }
        try {
            for (BlockRef r : refs) {
                BlockStart s = null;
                if (in != null) {
                    int offset = in.getInt();
                    if (offset >= 0) {
                        byte[] key = new byte[in.getInt()];
                        in.get(key);
                        s = new BlockStart(offset, key);
                    }
                }
                out.add(new BlockStart.Indexed(r, s));
            }
        } catch (RuntimeException e) {
            throw CorruptManifestPageException.of(page, "its key index does not match its references");
        }
        if (in != null && in.hasRemaining()) {
            throw CorruptManifestPageException.of(page, "its key index does not match its references");
        }
        return out;
    }

    /** Writes (or rewrites) the header. Call only after every page it counts is written. */
    public Mono<Void> writeHeader(Manifest manifest) {
        return Mono.from(manifests.replaceOne(eq("_id", manifest.snapshotId()), header(manifest),
                new ReplaceOptions().upsert(true))).then();
    }

    /** The header, or empty when the snapshot has none (never written, or deleted). */
    public Mono<Manifest> read(String snapshotId) {
        return Mono.from(manifests.find(eq("_id", snapshotId)).first()).map(ManifestStore::fromHeader);
    }

    /** The block references of one namespace in stream order, read a few pages ahead. */
    public Flux<BlockRef> refs(String snapshotId, int nsIndex) {
        String prefix = nsPrefix(snapshotId, nsIndex);
        return Flux.from(pages.find(range(prefix)).sort(Sorts.ascending("_id")).batchSize(PAGE_BATCH))
                .flatMapIterable(ManifestStore::decodePage);
    }

    /** Every block reference of the snapshot, namespace after namespace. */
    public Flux<BlockRef> allRefs(String snapshotId) {
        return Flux.from(pages.find(range(snapshotId + "/")).sort(Sorts.ascending("_id")).batchSize(PAGE_BATCH))
                .flatMapIterable(ManifestStore::decodePage);
    }

    /**
     * Removes the header first, then the pages: an interrupted delete leaves pages without a
     * header (garbage a later delete finds by id), never a header that promises missing pages.
     */
    public Mono<Void> delete(String snapshotId) {
        return Mono.from(manifests.deleteOne(eq("_id", snapshotId)))
                .then(Mono.from(pages.deleteMany(range(snapshotId + "/"))))
                .then();
    }

    private static Bson range(String prefix) {
        // '/' + 1 is '0': every id that starts with the prefix sorts between the two bounds.
        String upper = prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1);
        return and(gte("_id", prefix), lt("_id", upper));
    }

    private static String nsPrefix(String snapshotId, int nsIndex) {
        return snapshotId + "/" + String.format("%05d", nsIndex) + "/";
    }

    static BsonDocument pageDocument(String snapshotId, int nsIndex, int pageNo, List<BlockRef> refs) {
        ByteBuffer packed = ByteBuffer.allocate(refs.size() * REF_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (BlockRef r : refs) {
            packed.put(r.id().bytes()).putInt(r.uncompressedLength()).putInt(Math.toIntExact(r.storedLength()));
        }
        return new BsonDocument("_id", new BsonString(nsPrefix(snapshotId, nsIndex) + String.format("%08d", pageNo)))
                .append("snapshot", new BsonString(snapshotId))
                .append("ns", new BsonInt32(nsIndex))
                .append("page", new BsonInt32(pageNo))
                .append("count", new BsonInt32(refs.size()))
                .append("refs", new BsonBinary(packed.array()))
                .append("sha256", new BsonBinary(BlockId.of(packed.array()).bytes()));
    }

    static List<BlockRef> decodePage(BsonDocument page) {
        BsonValue raw = page.get("refs");
        BsonValue count = page.get("count");
        BsonValue digest = page.get("sha256");
        if (raw == null || !raw.isBinary() || count == null || !count.isInt32()
                || raw.asBinary().getData().length != count.asInt32().getValue() * REF_BYTES) {
            throw CorruptManifestPageException.of(page, "its references do not match its count");
        }
        if (digest != null && (!digest.isBinary()
                || !java.util.Arrays.equals(digest.asBinary().getData(), BlockId.of(raw.asBinary().getData()).bytes()))) {
            throw CorruptManifestPageException.of(page, "its references do not match their checksum");
        }
        ByteBuffer in = ByteBuffer.wrap(raw.asBinary().getData()).order(ByteOrder.LITTLE_ENDIAN);
        List<BlockRef> refs = new ArrayList<>(count.asInt32().getValue());
        byte[] id = new byte[BlockId.LENGTH];
        while (in.hasRemaining()) {
            in.get(id);
            refs.add(new BlockRef(BlockId.fromBytes(id), in.getInt(), in.getInt(), false));
        }
        return refs;
    }

    static BsonDocument header(Manifest m) {
        BsonArray namespaces = new BsonArray();
        for (Manifest.Namespace n : m.namespaces()) {
            BsonDocument d = new BsonDocument("index", new BsonInt32(n.index()))
                    .append("db", new BsonString(n.db()))
                    .append("coll", new BsonString(n.collection()))
                    .append("type", new BsonString(n.type()));
            if (n.uuid() != null) {
                d.append("uuid", new BsonBinary(n.uuid(), UuidRepresentation.STANDARD));
            }
            d.append("options", n.options())
                    .append("indexes", new BsonArray(new ArrayList<>(n.indexes())))
                    .append("documents", new BsonInt64(n.documents()))
                    .append("logicalBytes", new BsonInt64(n.logicalBytes()))
                    .append("storedBytes", new BsonInt64(n.storedBytes()))
                    .append("blocks", new BsonInt64(n.blocks()))
                    .append("pages", new BsonInt32(n.pages()));
            if (n.deltaOf() != null) {
                d.append("deltaOf", new BsonDocument("snapshot", new BsonString(n.deltaOf().snapshotId()))
                        .append("index", new BsonInt32(n.deltaOf().index())));
            }
            namespaces.add(d);
        }
        return new BsonDocument("_id", new BsonString(m.snapshotId()))
                .append("job", new BsonString(m.job()))
                .append("ts", m.ts().toBson())
                .append("createdAt", new BsonDateTime(m.createdAt().toEpochMilli()))
                .append("namespaces", namespaces)
                .append("documents", new BsonInt64(m.documents()))
                .append("logicalBytes", new BsonInt64(m.logicalBytes()))
                .append("storedBytes", new BsonInt64(m.storedBytes()))
                .append("blocks", new BsonInt64(m.blocks()))
                .append("chain", chain(m.chain()));
    }

    private static BsonDocument chain(Manifest.Chain c) {
        BsonDocument d = new BsonDocument("kind", new BsonString(c.kind()));
        if (c.parent() != null) {
            d.append("parent", new BsonString(c.parent()));
        }
        return d.append("depth", new BsonInt32(c.depth()))
                .append("chainBytes", new BsonInt64(c.chainBytes()))
                .append("baseBytes", new BsonInt64(c.baseBytes()))
                .append("keyEncoding", new BsonInt32(c.keyEncoding()));
    }

    /** Manifests written before deltas have no chain: full, of unrecorded key encoding. */
    private static Manifest.Chain chain(BsonDocument header) {
        if (!header.containsKey("chain")) {
            return null;
        }
        BsonDocument c = header.getDocument("chain");
        return new Manifest.Chain(c.getString("kind").getValue(),
                c.containsKey("parent") ? c.getString("parent").getValue() : null, c.getInt32("depth").getValue(),
                c.getNumber("chainBytes").longValue(), c.getNumber("baseBytes").longValue(),
                c.getInt32("keyEncoding").getValue());
    }

    static Manifest fromHeader(BsonDocument d) {
        List<Manifest.Namespace> namespaces = new ArrayList<>();
        for (BsonValue v : d.getArray("namespaces")) {
            BsonDocument n = v.asDocument();
            List<BsonDocument> indexes = new ArrayList<>();
            for (BsonValue spec : n.getArray("indexes")) {
                indexes.add(spec.asDocument());
            }
            namespaces.add(new Manifest.Namespace(n.getInt32("index").getValue(), n.getString("db").getValue(),
                    n.getString("coll").getValue(), n.getString("type").getValue(),
                    n.containsKey("uuid") ? n.getBinary("uuid").asUuid(UuidRepresentation.STANDARD) : null,
                    n.getDocument("options"), indexes, n.getNumber("documents").longValue(),
                    n.getNumber("logicalBytes").longValue(), n.getNumber("storedBytes").longValue(),
                    n.getNumber("blocks").longValue(), n.getNumber("pages").intValue(),
                    n.containsKey("deltaOf") ? new Manifest.DeltaOf(n.getDocument("deltaOf").getString("snapshot").getValue(),
                            n.getDocument("deltaOf").getInt32("index").getValue()) : null));
        }
        BsonTimestamp ts = d.getTimestamp("ts");
        return new Manifest(d.getString("_id").getValue(), d.getString("job").getValue(), OpTime.of(ts),
                Instant.ofEpochMilli(d.getDateTime("createdAt").getValue()), namespaces, chain(d));
    }
}
