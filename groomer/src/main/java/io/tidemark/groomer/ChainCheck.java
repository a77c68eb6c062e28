package io.tidemark.groomer;

import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The chain half of {@code check}: a delta restores only with every snapshot beneath it, so each
 * live delta's ancestors must have their manifests, and each delta namespace must build on a
 * namespace of one of them. Reports what is missing, and which ancestors are hidden chain bases,
 * whose blocks the check must then read as well as the live snapshots'.
 */
final class ChainCheck {

    private final ManifestStore manifests;
    private final Map<String, Manifest> read = new HashMap<>();

    ChainCheck(ManifestStore manifests) {
        this.manifests = manifests;
    }

    /** What the check found: problems, and the ancestors of live deltas, nearest first. */
    record Result(List<SnapshotChecker.Problem> problems, Set<String> ancestors) {
    }

    /** Checks the chains under {@code live} (the job's complete snapshots). Blocks: groomer worker only. */
    Result check(List<CatalogEntry> live) {
        List<SnapshotChecker.Problem> problems = new ArrayList<>();
        Set<String> ancestors = new LinkedHashSet<>();
        for (CatalogEntry e : live) {
            Manifest m = manifest(e.id());
            if (m == null || !m.isDelta()) {
                continue;
            }
            Map<String, Manifest> chain = new HashMap<>();
            chain.put(m.snapshotId(), m);
            Manifest at = m;
            // Bounded by the tip's depth: a manifest naming itself as an ancestor cannot loop.
            while (at.isDelta() && chain.size() <= m.chain().depth() + 1) {
                Manifest parent = manifest(at.chain().parent());
                if (parent == null) {
                    problems.add(new SnapshotChecker.Problem(e.id(), null, null, "chain", "delta on "
                            + at.chain().parent() + " (through " + at.snapshotId() + "), whose manifest is missing"));
                    break;
                }
                chain.put(parent.snapshotId(), parent);
                ancestors.add(parent.snapshotId());
                at = parent;
            }
            for (Manifest.Namespace n : m.namespaces()) {
                String missing = missingLevel(chain, m, n);
                if (missing != null) {
                    problems.add(new SnapshotChecker.Problem(e.id(), n.ns(), null, "chain", missing));
                }
            }
        }
        return new Result(problems, ancestors);
    }

    /** Follows a namespace's deltas down to one stored whole; what is missing on the way, or null. */
    private static String missingLevel(Map<String, Manifest> chain, Manifest m, Manifest.Namespace n) {
        int steps = 0;
        while (n.isDelta()) {
            Manifest parent = chain.get(n.deltaOf().snapshotId());
            if (parent == null) {
                return "a delta on " + n.deltaOf().snapshotId() + ", which is not in its chain";
            }
            if (n.deltaOf().index() >= parent.namespaces().size() || ++steps > chain.size()) {
                return "a delta on namespace " + n.deltaOf().index() + " of " + parent.snapshotId() + ", which has none";
            }
            n = parent.namespaces().get(n.deltaOf().index());
        }
        return null;
    }

    private Manifest manifest(String id) {
        return read.computeIfAbsent(id, k -> Blocking.await(manifests.read(k)));
    }
}
