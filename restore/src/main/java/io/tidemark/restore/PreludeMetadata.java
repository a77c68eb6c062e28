package io.tidemark.restore;

import io.tidemark.restore.archive.CollectionMetadata;
import io.tidemark.restore.archive.Namespace;
import io.tidemark.shared.snapshots.Manifest;
import java.util.ArrayList;
import java.util.List;

/** A restore source's catalog, as the archive prelude's entries that mongorestore creates collections from. */
final class PreludeMetadata {

    private PreludeMetadata() {
    }

    static List<CollectionMetadata> of(List<Manifest.Namespace> namespaces) {
        List<CollectionMetadata> out = new ArrayList<>(namespaces.size());
        for (Manifest.Namespace ns : namespaces) {
            out.add(of(ns));
        }
        return out;
    }

    static CollectionMetadata of(Manifest.Namespace ns) {
        Namespace name = Namespace.of(ns.db(), ns.collection());
        String uuid = ns.uuid() == null ? null : CollectionMetadata.uuidHex(ns.uuid());
        return switch (ns.type()) {
            case "collection" -> CollectionMetadata.collection(name, ns.options(), ns.indexes(), uuid);
            case "view" -> CollectionMetadata.view(name, ns.options());
            case "timeseries" -> CollectionMetadata.timeseries(name, ns.options(), ns.indexes(), uuid);
            default -> throw new IllegalStateException("namespace " + ns.ns() + " has a type no archive can carry: " + ns.type());
        };
    }
}
