package io.tidemark.restore.push;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;

/**
 * What a push did.
 *
 * @param collections collections (and time-series collections) created and filled
 * @param views       views created
 * @param dropped     target namespaces dropped first (only with {@code drop})
 * @param reused      empty collections that already existed and were filled as they were
 * @param skipped     namespaces not written, each with the reason
 */
public record PushSummary(String target, OpTime ts, List<String> collections, List<String> views, List<String> dropped,
                          List<String> reused, List<String> skipped, long documents, long bytes, int indexes,
                          Duration duration) {

    public JsonObject toJson() {
        return new JsonObject()
                .put("target", target)
                .put("ts", ts.toJson())
                .put("collections", new JsonArray(collections))
                .put("views", new JsonArray(views))
                .put("dropped", new JsonArray(dropped))
                .put("reused", new JsonArray(reused))
                .put("skipped", new JsonArray(skipped))
                .put("documents", documents)
                .put("bytes", bytes)
                .put("indexes", indexes)
                .put("durationSeconds", duration.toMillis() / 1000.0);
    }
}
