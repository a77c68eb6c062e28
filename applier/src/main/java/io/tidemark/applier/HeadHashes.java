package io.tidemark.applier;

import java.util.function.Consumer;

import io.vertx.core.json.JsonObject;

/**
 * The head's side of {@code tidemark verify}: every namespace's count and {@link VerifyHash}, all
 * from one consistent view, with the applied position that view is at. A whole-head read: it runs
 * on a worker, never on the head's apply thread, so replication goes on while it hashes (the view
 * is a RocksDB snapshot, so what the applier does meanwhile does not change the result).
 */
final class HeadHashes {

    private HeadHashes() {
    }

    /** Opens a view of {@code head} and hashes it; {@code hashed} hears of each namespace done. */
    static JsonObject of(Head head, Consumer<NamespaceEntry> hashed) {
        try (HeadView view = head.openView()) {
            JsonObject namespaces = new JsonObject();
            for (NamespaceEntry ns : view.namespaces()) {
                if (ns.type() == NamespaceType.VIEW) {
                    continue;
                }
                VerifyHash.Result r = VerifyHash.of(view, ns.id());
                namespaces.put(ns.ns(), new JsonObject().put("count", r.count()).put("hash", r.hex()));
                hashed.accept(ns);
            }
            return new JsonObject()
                    .put("appliedTs", view.position().toJson())
                    .put("namespaces", namespaces);
        }
    }
}
