package io.tidemark.groomer;

import io.tidemark.shared.blocks.BlockId;
import io.tidemark.shared.blocks.BlockNotFoundException;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.CorruptBlockException;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Verifies that a job's live snapshots can be restored: each has its manifest, each namespace
 * the number of references its header promises, and every referenced block exists; with
 * {@code readData}, every block also reads back, decompresses and hashes to its id. Each
 * problem names the snapshot, the namespace and the block.
 *
 * <p>A block shared by several snapshots is looked up or read once (blocks are named by content,
 * so one answer holds for all of them) and a bad one is reported for every snapshot that
 * references it. Lookups and reads run a few at a time.
 */
public final class SnapshotChecker {

    /** Problems listed in a report; all are counted. */
    static final int MAX_LISTED = 1000;
    private static final int CONCURRENCY = 8;

    private final BlockStore store;
    private final ManifestStore manifests;
    private final CatalogEntries catalog;

    SnapshotChecker(BlockStore store, ManifestStore manifests, CatalogEntries catalog) {
        this.store = store;
        this.manifests = manifests;
        this.catalog = catalog;
    }

    /** One thing wrong with a snapshot. */
    public record Problem(String snapshot, String namespace, String block, String problem) {
        JsonObject toJson() {
            return new JsonObject().put("snapshot", snapshot).put("namespace", namespace).put("block", block)
                    .put("problem", problem);
        }
    }

    /** The outcome of a check; {@link #ok()} only when nothing at all was wrong. */
    public record Report(String job, boolean readData, int snapshots, long references, long blocks, long bytesRead,
                         long problemCount, List<Problem> problems) {
        public boolean ok() {
            return problemCount == 0;
        }

        public JsonObject toJson() {
            JsonArray listed = new JsonArray();
            problems.forEach(p -> listed.add(p.toJson()));
            return new JsonObject().put("job", job).put("readData", readData).put("ok", ok())
                    .put("snapshots", snapshots).put("references", references).put("blocks", blocks)
                    .put("bytesRead", bytesRead).put("problemCount", problemCount).put("problems", listed);
        }
    }

    /** Checks every complete snapshot of {@code job}. Blocks: groomer worker only. */
    public Report check(String job, boolean readData) {
        List<CatalogEntry> live = catalog.ofJob(job).stream().filter(CatalogEntry::complete)
                .sorted(Comparator.comparing(CatalogEntry::createdAt)).toList();
        List<Problem> problems = Collections.synchronizedList(new ArrayList<>());
        AtomicLong problemCount = new AtomicLong();
        AtomicLong references = new AtomicLong();
        AtomicLong bytesRead = new AtomicLong();
        Set<BlockId> checked = ConcurrentHashMap.newKeySet();
        ConcurrentHashMap<BlockId, String> bad = new ConcurrentHashMap<>();
        for (CatalogEntry e : live) {
            Manifest manifest = Blocking.await(manifests.read(e.id()));
            if (manifest == null) {
                report(problems, problemCount, new Problem(e.id(), null, null, "manifest missing"));
                continue;
            }
            for (Manifest.Namespace ns : manifest.namespaces()) {
                AtomicLong count = new AtomicLong();
                Blocking.await(manifests.refs(e.id(), ns.index())
                        .doOnNext(r -> count.incrementAndGet())
                        .flatMap(r -> {
                            Mono<String> verdict;
                            if (checked.add(r.id())) {
                                verdict = checkBlock(r, readData, bytesRead).doOnNext(p -> bad.put(r.id(), p));
                            } else {
                                // Checked for an earlier snapshot: its verdict stands for this one.
                                String known = bad.get(r.id());
                                verdict = known == null ? Mono.empty() : Mono.just(known);
                            }
                            return verdict.map(p -> new Problem(e.id(), ns.ns(), r.id().hex(), p));
                        }, CONCURRENCY)
                        .doOnNext(p -> report(problems, problemCount, p))
                        .onErrorResume(err -> {
                            report(problems, problemCount, new Problem(e.id(), ns.ns(), null,
                                    "cannot read the manifest's references: " + err.getMessage()));
                            return Flux.empty();
                        })
                        .then());
                references.addAndGet(count.get());
                if (count.get() != ns.blocks()) {
                    report(problems, problemCount, new Problem(e.id(), ns.ns(), null, "the manifest promises "
                            + ns.blocks() + " block references, its pages hold " + count.get()));
                }
            }
        }
        return new Report(job, readData, live.size(), references.get(), checked.size(), bytesRead.get(),
                problemCount.get(), List.copyOf(problems));
    }

    /** Emits a problem description, or nothing when the block is fine. */
    private Mono<String> checkBlock(BlockRef ref, boolean readData, AtomicLong bytesRead) {
        if (!readData) {
            return store.stat(ref.id()).map(info -> "")
                    .switchIfEmpty(Mono.just("missing block"))
                    .filter(p -> !p.isEmpty());
        }
        return store.read(ref.id())
                .map(data -> {
                    bytesRead.addAndGet(data.length);
                    return data.length == ref.uncompressedLength() ? ""
                            : "block holds " + data.length + " bytes, the manifest says " + ref.uncompressedLength();
                })
                .onErrorResume(BlockNotFoundException.class, e -> Mono.just("missing block"))
                .onErrorResume(CorruptBlockException.class, e -> Mono.just("corrupt block: " + e.getMessage()))
                .filter(p -> !p.isEmpty());
    }

    private static void report(List<Problem> problems, AtomicLong count, Problem p) {
        if (count.incrementAndGet() <= MAX_LISTED) {
            problems.add(p);
        }
    }
}
