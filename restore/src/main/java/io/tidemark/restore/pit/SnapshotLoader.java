package io.tidemark.restore.pit;

import io.tidemark.applier.DocumentLoader;
import io.tidemark.applier.Head;
import io.tidemark.applier.HeadKeys;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.NamespaceType;
import io.tidemark.restore.snapshot.ChainReader;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.util.ArrayList;
import java.util.List;

/**
 * Loads a snapshot into an empty temporary head, as a head is built from an initial sync: every
 * namespace's catalog entry from the manifest (type, UUID, options, index specs), then its
 * documents from the verified blocks, then the position the oplog replay starts from. Blocks are
 * read a few ahead of the head's thread, which alone writes; each namespace's document count and
 * bytes are checked against its manifest.
 */
public final class SnapshotLoader {

    /** Blocks fetched and verified ahead of the writer: a few MB at 1 MiB blocks. */
    private static final int BLOCKS_AHEAD = 4;

    private final ManifestStore manifests;
    private final BlockReader blocks;
    private final boolean sorted;

    public SnapshotLoader(ManifestStore manifests, BlockReader blocks) {
        this(manifests, blocks, false);
    }

    /**
     * With {@code sorted}, documents go into the head as ingested table files ({@code SortedLoader})
     * whenever the snapshot's keys are encoded as the head's, so that its documents arrive in the
     * head's key order; otherwise through write batches.
     */
    public SnapshotLoader(ManifestStore manifests, BlockReader blocks, boolean sorted) {
        this.manifests = manifests;
        this.blocks = blocks;
        this.sorted = sorted;
    }

    Mono<Void> load(TemporaryHead target, Manifest manifest) {
        return load(target, manifest, bytes -> { });
    }

    /**
     * The same, telling {@code loaded} of the bytes of documents each piece brought (on the thread
     * that loads them). Sorted loads write their files off the head's thread, two namespaces at a
     * time, so that one namespace's blocks are framed and written while another's are verified;
     * only their ingestion runs on the head's thread.
     */
    public Mono<Void> load(TemporaryHead target, Manifest manifest, java.util.function.LongConsumer loaded) {
        boolean sortedLoad = sorted && manifest.chain().keyEncoding() == HeadKeys.encoding();
        return ChainReader.open(manifests, blocks, manifest).flatMap(chain -> target.call(() -> createNamespaces(target.head(), manifest))
                .flatMapMany(entries -> Flux.range(0, entries.size())
                        .flatMapSequential(i -> loadDocuments(target, chain, manifest.namespaces().get(i), entries.get(i), loaded,
                                sortedLoad), sortedLoad ? 2 : 1, 1))
                .then())
                .then(target.run(() -> target.head().initializePosition(manifest.ts())));
    }

    private static List<NamespaceEntry> createNamespaces(Head head, Manifest manifest) {
        List<NamespaceEntry> entries = new ArrayList<>();
        for (Manifest.Namespace n : manifest.namespaces()) {
            List<RawBsonDocument> indexes = new ArrayList<>();
            for (BsonDocument spec : n.indexes()) {
                indexes.add(raw(spec));
            }
            entries.add(head.createNamespace(n.db(), n.collection(), n.uuid(), NamespaceType.fromWireName(n.type()),
                    raw(n.options()), indexes));
        }
        return entries;
    }

    private Mono<Void> loadDocuments(TemporaryHead target, ChainReader chain, Manifest.Namespace ns, NamespaceEntry entry,
                                     java.util.function.LongConsumer loaded, boolean sortedLoad) {
        Manifest manifest = chain.tip();
        if (entry.type() == NamespaceType.VIEW || ns.blocks() == 0 && !ns.isDelta()) {
            return check(manifest, ns, 0, 0);
        }
        // A delta namespace comes merged with its chain: whole documents in key order, as a full
        // one's blocks hold them, but not its manifest's byte count (that is its delta records').
        Flux<byte[]> pieces = ns.isDelta()
                ? chain.documents(ns).map(SnapshotLoader::bytes)
                : blocks.read(manifests.refs(manifest.snapshotId(), ns.index()).map(BlockRef::id));
        return Mono.usingWhen(
                target.call(() -> new NamespaceLoad(sortedLoad ? target.head().sortedLoader(entry.id())
                        : target.head().bulkLoader(entry.id()))),
                load -> pieces
                        // A sorted load's files are its own: written on a worker; a batch load writes the head.
                        .publishOn(sortedLoad ? Schedulers.boundedElastic() : target.scheduler(), 2)
                        .doOnNext(block -> {
                            load.add(block);
                            loaded.accept(block.length);
                        })
                        .then(target.call(load::finish))
                        .flatMap(counts -> check(manifest, ns, counts[0], ns.isDelta() ? ns.logicalBytes() : counts[1])),
                load -> target.run(load::close));
    }

    private static byte[] bytes(java.nio.ByteBuffer b) {
        if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.remaining() == b.array().length) {
            return b.array();
        }
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static Mono<Void> check(Manifest manifest, Manifest.Namespace ns, long documents, long bytes) {
        if (documents != ns.documents() || bytes != ns.logicalBytes()) {
            return Mono.error(new IllegalStateException("snapshot " + manifest.snapshotId() + " namespace " + ns.ns()
                    + ": its blocks hold " + documents + " documents (" + bytes + " bytes) but its manifest says "
                    + ns.documents() + " (" + ns.logicalBytes() + " bytes)"));
        }
        return Mono.empty();
    }

    /** One namespace's documents on their way from blocks into the head's bulk loader. */
    private static final class NamespaceLoad {
        private final DocumentLoader loader;
        private final DocumentFramer framer;

        NamespaceLoad(DocumentLoader loader) {
            this.loader = loader;
            this.framer = new DocumentFramer(loader::add);
        }

        void add(byte[] block) {
            framer.feed(block);
        }

        long[] finish() {
            framer.finish();
            loader.finish();
            return new long[] {framer.documents(), framer.bytes()};
        }

        void close() {
            loader.close();
        }
    }

    static RawBsonDocument raw(BsonDocument doc) {
        // Encoded, never round-tripped through JSON, so every BSON type and field order is kept.
        return doc instanceof RawBsonDocument r ? r : new RawBsonDocument(doc, new BsonDocumentCodec());
    }
}
