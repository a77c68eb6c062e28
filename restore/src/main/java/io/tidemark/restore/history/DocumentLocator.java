package io.tidemark.restore.history;

import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.snapshots.BlockStart;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One document of one snapshot, found by its head key without reading the namespace.
 *
 * <p>A snapshot's namespace is a chain of levels (deltas down to a namespace stored whole, see
 * {@code ChainReader}); the newest level that holds the key answers (an upsert: the document; a
 * delete: absent), and a key no level holds is absent. In each level the block references are in
 * key order and carry a key index ({@link BlockStart}): the page summaries (a few dozen bytes a
 * page) choose the page, the page's index the block, and the scan reads from that block's first
 * record start until it meets the key or a greater one. That is one page and one block per level
 * (two when the record runs into the next block) whatever the namespace size. Levels written
 * before the index, or in an older key order, are scanned whole: slow but exact.
 *
 * <p>Every block is verified against its hash as it is read ({@link BlockReader}).
 */
final class DocumentLocator {

    /** Blocks read ahead in one level: a record rarely spans more than two. */
    private static final int BLOCKS_AHEAD = 2;

    private final ManifestStore manifests;
    private final BlockReader blocks;
    /** Manifests read during one request (parents of the snapshots of a history). */
    private final Map<String, Mono<Manifest>> cache = new ConcurrentHashMap<>();
    private final AtomicInteger blocksRead = new AtomicInteger();
    /**
     * Answers of levels already read in this request, by snapshot, namespace index and key: the
     * snapshots of one chain share their lower levels, so a history reads each level once.
     */
    private final Map<String, Mono<LevelScan.Result>> levels = new ConcurrentHashMap<>();

    DocumentLocator(ManifestStore manifests, io.tidemark.shared.blocks.BlockStore store) {
        this.manifests = manifests;
        this.blocks = new BlockReader(store, BLOCKS_AHEAD);
    }

    /** Blocks read so far (what the benchmark and the tests check the lookups by). */
    int blocksRead() {
        return blocksRead.get();
    }

    Mono<Manifest> manifest(String snapshotId) {
        return cache.computeIfAbsent(snapshotId, id -> manifests.read(id)
                .switchIfEmpty(Mono.error(() -> new IllegalStateException("snapshot " + id + " has no manifest")))
                .cache());
    }

    /** The namespace {@code ns} of the snapshot, or null when the snapshot does not have it. */
    static Manifest.Namespace namespace(Manifest m, String ns) {
        for (Manifest.Namespace n : m.namespaces()) {
            if (n.ns().equals(ns)) {
                return n;
            }
        }
        return null;
    }

    /** The document of {@code key} in namespace {@code ns} of snapshot {@code m}: its raw BSON, or empty when absent. */
    Mono<byte[]> find(Manifest m, Manifest.Namespace ns, byte[] key) {
        return level(m, ns, key, 0);
    }

    private Mono<byte[]> level(Manifest m, Manifest.Namespace ns, byte[] key, int depth) {
        if (depth > Math.max(64, m.chain().depth() + 2)) {
            return Mono.error(new IllegalStateException("snapshot " + m.snapshotId() + ": " + ns.ns() + " has a looping chain"));
        }
        String level = m.snapshotId() + "/" + ns.index() + "/" + java.util.HexFormat.of().formatHex(key);
        return levels.computeIfAbsent(level, k -> scan(m, ns, key).cache()).flatMap(r -> switch (r.outcome()) {
            case FOUND -> Mono.just(r.document());
            case DELETED -> Mono.empty();
            case NOT_HERE -> !ns.isDelta() ? Mono.empty()
                    : manifest(ns.deltaOf().snapshotId()).flatMap(parent -> {
                        if (ns.deltaOf().index() < 0 || ns.deltaOf().index() >= parent.namespaces().size()) {
                            return Mono.error(new IllegalStateException("snapshot " + m.snapshotId() + ": " + ns.ns()
                                    + " is a delta on a namespace its parent " + parent.snapshotId() + " does not have"));
                        }
                        return level(parent, parent.namespaces().get(ns.deltaOf().index()), key, depth + 1);
                    });
        });
    }

    /** What one level says about the key. */
    private Mono<LevelScan.Result> scan(Manifest m, Manifest.Namespace ns, byte[] key) {
        if (ns.blocks() == 0) {
            return Mono.just(LevelScan.Result.NOT_HERE);
        }
        String what = "snapshot " + m.snapshotId() + " namespace " + ns.ns();
        boolean ordered = m.chain().keyEncoding() == HeadKeys.encoding();
        return manifests.pageSummaries(m.snapshotId(), ns.index()).collectList().flatMap(pages -> {
            if (!ordered || !ManifestStore.indexed(pages)) {
                return read(m, ns, pages, 0, 0, new LevelScan(key, ns.isDelta(), ordered, 0, what));
            }
            // The last page whose first indexed key is at or before the key; none: the key is before them all.
            int page = -1;
            for (int i = 0; i < pages.size(); i++) {
                byte[] first = pages.get(i).firstKey();
                if (first != null && HeadKeys.compare(first, key) <= 0) {
                    page = i;
                } else if (first != null) {
                    break;
                }
            }
            if (page < 0) {
                // A key before the first indexed one can only be in the blocks ahead of it: scan from the start.
                return read(m, ns, pages, 0, 0, new LevelScan(key, ns.isDelta(), true, 0, what));
            }
            int chosen = page;
            return manifests.page(m.snapshotId(), ns.index(), pages.get(chosen).page()).flatMap(refs -> {
                int block = -1;
                for (int i = 0; i < refs.size(); i++) {
                    BlockStart s = refs.get(i).start();
                    if (s != null && HeadKeys.compare(s.key(), key) <= 0) {
                        block = i;
                    } else if (s != null) {
                        break;
                    }
                }
                BlockStart s = refs.get(block).start();
                return read(m, ns, pages, chosen, block, new LevelScan(key, ns.isDelta(), true, s.offset(), what));
            });
        });
    }

    /** Feeds the level's blocks from block {@code block} of page {@code page} on, until the scan decides. */
    private Mono<LevelScan.Result> read(Manifest m, Manifest.Namespace ns, List<ManifestStore.PageSummary> pages,
            int page, int block, LevelScan scan) {
        Flux<BlockId> ids = Flux.range(page, pages.size() - page)
                .concatMap(i -> manifests.page(m.snapshotId(), ns.index(), pages.get(i).page())
                        .flatMapIterable(refs -> i == page ? refs.subList(block, refs.size()) : refs), 1)
                .map(r -> r.ref().id());
        return blocks.read(ids)
                .doOnNext(b -> blocksRead.incrementAndGet())
                .concatMap(b -> Mono.justOrEmpty(scan.feed(b)), 1)
                .next()
                .switchIfEmpty(Mono.fromCallable(scan::end));
    }
}
