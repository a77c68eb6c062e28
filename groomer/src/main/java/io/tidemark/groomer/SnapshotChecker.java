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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Verifies that a job's live snapshots can be restored: each has its manifest, each namespace
 * the number of references its header promises, and every referenced block exists; with
 * {@code readData}, every block also reads back, decompresses and hashes to its id. Each
 * problem names the snapshot, the namespace and the block, and says whether the block is
 * missing (the store has no record of it) or corrupt (its stored bytes are damaged). The report
 * also lists each damaged block with every snapshot it damages, and each damaged snapshot with
 * the point-in-time window that restores from it ({@code from} its position until the next
 * snapshot's, or on while it is the newest).
 *
 * <p>A block shared by several references is looked up or read once (blocks are named by
 * content, so one answer holds for all of them): every reference waits for that one verdict,
 * also while it is still in flight, and a bad block is reported for every reference. Lookups and
 * reads run a few at a time.
 */
public final class SnapshotChecker {

    /** Problems listed in a report; all are counted. */
    static final int MAX_LISTED = 1000;
    private static final int CONCURRENCY = 8;
    static final String MISSING = "missing";
    static final String CORRUPT = "corrupt";

    private final BlockStore store;
    private final ManifestStore manifests;
    private final CatalogEntries catalog;

    SnapshotChecker(BlockStore store, ManifestStore manifests, CatalogEntries catalog) {
        this.store = store;
        this.manifests = manifests;
        this.catalog = catalog;
    }

    /** One thing wrong with a snapshot; {@code kind} is "missing", "corrupt" or "manifest". */
    public record Problem(String snapshot, String namespace, String block, String kind, String problem) {
        JsonObject toJson() {
            return new JsonObject().put("snapshot", snapshot).put("namespace", namespace).put("block", block)
                    .put("kind", kind).put("problem", problem);
        }
    }

    /** A block that is missing or corrupt, and the snapshots referencing it. */
    public record DamagedBlock(String block, String kind, String problem, List<String> snapshots) {
        JsonObject toJson() {
            return new JsonObject().put("block", block).put("kind", kind).put("problem", problem)
                    .put("snapshots", new JsonArray(snapshots));
        }
    }

    /**
     * A snapshot that cannot be restored whole, how many of its distinct blocks are missing and
     * corrupt, and the point-in-time restores that start from it: targets from {@code pitFrom}
     * (its position) up to {@code pitUntil} (the next snapshot's, exclusive; null while newest).
     */
    public record DamagedSnapshot(String snapshot, String pitFrom, String pitUntil, long missingBlocks,
                                  long corruptBlocks, long otherProblems) {
        JsonObject toJson() {
            return new JsonObject().put("snapshot", snapshot).put("pitFrom", pitFrom).put("pitUntil", pitUntil)
                    .put("missingBlocks", missingBlocks).put("corruptBlocks", corruptBlocks)
                    .put("otherProblems", otherProblems);
        }
    }

    /** The outcome of a check; {@link #ok()} only when nothing at all was wrong. */
    public record Report(String job, boolean readData, int snapshots, long references, long blocks, long bytesRead,
                         long problemCount, List<Problem> problems, long missingBlocks, long corruptBlocks,
                         List<DamagedBlock> damagedBlocks, List<DamagedSnapshot> damagedSnapshots) {
        public boolean ok() {
            return problemCount == 0;
        }

        public JsonObject toJson() {
            JsonArray listed = new JsonArray();
            problems.forEach(p -> listed.add(p.toJson()));
            JsonArray blocksJson = new JsonArray();
            damagedBlocks.forEach(b -> blocksJson.add(b.toJson()));
            JsonArray snapshotsJson = new JsonArray();
            damagedSnapshots.forEach(d -> snapshotsJson.add(d.toJson()));
            return new JsonObject().put("job", job).put("readData", readData).put("ok", ok())
                    .put("snapshots", snapshots).put("references", references).put("blocks", blocks)
                    .put("bytesRead", bytesRead).put("problemCount", problemCount).put("problems", listed)
                    .put("missingBlocks", missingBlocks).put("corruptBlocks", corruptBlocks)
                    .put("damagedBlocks", blocksJson).put("damagedSnapshots", snapshotsJson);
        }
    }

    /** A block's verdict: null kind when it is fine. */
    private record Verdict(String kind, String problem) {
        static final Verdict FINE = new Verdict(null, null);
    }

    /** Checks every complete snapshot of {@code job}. Blocks: groomer worker only. */
    public Report check(String job, boolean readData) {
        List<CatalogEntry> live = catalog.ofJob(job).stream().filter(CatalogEntry::complete)
                .sorted(Comparator.comparing(CatalogEntry::createdAt)).toList();
        List<Problem> problems = Collections.synchronizedList(new ArrayList<>());
        AtomicLong problemCount = new AtomicLong();
        AtomicLong references = new AtomicLong();
        AtomicLong bytesRead = new AtomicLong();
        // One verdict per block, shared by every reference to it, including those made while it is in flight.
        ConcurrentHashMap<BlockId, Mono<Verdict>> verdicts = new ConcurrentHashMap<>();
        // Damaged block -> the snapshots it damages, in check order.
        Map<BlockId, Set<String>> damagedBy = new ConcurrentHashMap<>();
        Map<BlockId, Verdict> badVerdicts = new ConcurrentHashMap<>();
        Map<String, Long> otherProblems = new ConcurrentHashMap<>();
        // Deltas restore through their chains: check those too, and read the hidden chain bases' blocks.
        ChainCheck.Result chains = new ChainCheck(manifests).check(live);
        chains.problems().forEach(p -> {
            report(problems, problemCount, p);
            otherProblems.merge(p.snapshot(), 1L, Long::sum);
        });
        List<CatalogEntry> withBases = new ArrayList<>(live);
        catalog.ofJob(job).stream().filter(e -> e.state() == CatalogEntry.State.CHAIN_BASE
                && chains.ancestors().contains(e.id())).forEach(withBases::add);
        for (CatalogEntry e : withBases) {
            Manifest manifest = Blocking.await(manifests.read(e.id()));
            if (manifest == null) {
                report(problems, problemCount, new Problem(e.id(), null, null, "manifest", "manifest missing"));
                otherProblems.merge(e.id(), 1L, Long::sum);
                continue;
            }
            for (Manifest.Namespace ns : manifest.namespaces()) {
                AtomicLong count = new AtomicLong();
                java.util.concurrent.atomic.AtomicBoolean unreadable = new java.util.concurrent.atomic.AtomicBoolean();
                Blocking.await(manifests.refs(e.id(), ns.index())
                        .doOnNext(r -> count.incrementAndGet())
                        .flatMap(r -> verdicts.computeIfAbsent(r.id(), id -> checkBlock(r, readData, bytesRead).cache())
                                .filter(v -> v.kind() != null)
                                .map(v -> {
                                    badVerdicts.put(r.id(), v);
                                    damagedBy.computeIfAbsent(r.id(), id -> Collections.synchronizedSet(
                                            new LinkedHashSet<>())).add(e.id());
                                    return new Problem(e.id(), ns.ns(), r.id().hex(), v.kind(), v.problem());
                                }), CONCURRENCY)
                        .doOnNext(p -> report(problems, problemCount, p))
                        .onErrorResume(err -> {
                            // a damaged page (its checksum fails) ends the namespace's references here
                            unreadable.set(true);
                            report(problems, problemCount, new Problem(e.id(), ns.ns(), null, "manifest",
                                    "cannot read the manifest's references: " + err.getMessage()));
                            otherProblems.merge(e.id(), 1L, Long::sum);
                            return Flux.empty();
                        })
                        .then());
                references.addAndGet(count.get());
                if (!unreadable.get() && count.get() != ns.blocks()) {
                    report(problems, problemCount, new Problem(e.id(), ns.ns(), null, "manifest", "the manifest promises "
                            + ns.blocks() + " block references, its pages hold " + count.get()));
                    otherProblems.merge(e.id(), 1L, Long::sum);
                }
            }
        }
        List<DamagedBlock> damagedBlocks = new ArrayList<>();
        badVerdicts.forEach((id, v) -> damagedBlocks.add(new DamagedBlock(id.hex(), v.kind(), v.problem(),
                List.copyOf(damagedBy.get(id)))));
        damagedBlocks.sort(Comparator.comparing(DamagedBlock::block));
        List<DamagedSnapshot> damagedSnapshots = new ArrayList<>();
        for (int i = 0; i < live.size(); i++) {
            CatalogEntry e = live.get(i);
            long missing = 0;
            long corrupt = 0;
            for (Map.Entry<BlockId, Set<String>> d : damagedBy.entrySet()) {
                if (d.getValue().contains(e.id())) {
                    if (MISSING.equals(badVerdicts.get(d.getKey()).kind())) {
                        missing++;
                    } else {
                        corrupt++;
                    }
                }
            }
            long other = otherProblems.getOrDefault(e.id(), 0L);
            if (missing + corrupt + other > 0) {
                String until = i + 1 < live.size() ? live.get(i + 1).ts().toString() : null;
                damagedSnapshots.add(new DamagedSnapshot(e.id(), e.ts().toString(), until, missing, corrupt, other));
            }
        }
        long missingBlocks = badVerdicts.values().stream().filter(v -> MISSING.equals(v.kind())).count();
        return new Report(job, readData, live.size(), references.get(), verdicts.size(), bytesRead.get(),
                problemCount.get(), List.copyOf(problems), missingBlocks, badVerdicts.size() - missingBlocks,
                damagedBlocks, damagedSnapshots);
    }

    /**
     * The block's verdict. Without {@code readData} only a block the store does not list is read:
     * that tells a missing block from one the store holds as corrupt.
     */
    private Mono<Verdict> checkBlock(BlockRef ref, boolean readData, AtomicLong bytesRead) {
        if (!readData) {
            return store.stat(ref.id()).map(info -> Verdict.FINE)
                    .switchIfEmpty(Mono.defer(() -> read(ref, bytesRead)));
        }
        return read(ref, bytesRead);
    }

    private Mono<Verdict> read(BlockRef ref, AtomicLong bytesRead) {
        return store.read(ref.id())
                .map(data -> {
                    bytesRead.addAndGet(data.length);
                    return data.length == ref.uncompressedLength() ? Verdict.FINE : new Verdict(CORRUPT,
                            "block holds " + data.length + " bytes, the manifest says " + ref.uncompressedLength());
                })
                .onErrorResume(BlockNotFoundException.class, e -> Mono.just(new Verdict(MISSING, "missing block")))
                .onErrorResume(CorruptBlockException.class,
                        e -> Mono.just(new Verdict(CORRUPT, "corrupt block: " + e.getMessage())));
    }

    private static void report(List<Problem> problems, AtomicLong count, Problem p) {
        if (count.incrementAndGet() <= MAX_LISTED) {
            problems.add(p);
        }
    }
}
