package io.tidemark.restore.history;

import io.tidemark.shared.util.Futures;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import reactor.core.publisher.Mono;

/**
 * REST routes for one document's history, relative to {@code /api/v1} (admin bearer token, like
 * every job API); both read only:
 * <ul>
 * <li>{@code GET /jobs/:job/documents/history?ns=db.coll&id=<extended JSON _id>}: its version in
 *     every retained snapshot (consecutive equal versions grouped, naming their snapshots) and its
 *     changes inside the point-in-time window, with oplog positions and wall times;
 * <li>{@code GET /jobs/:job/documents/at?ns=db.coll&id=<_id>&at=<T:I or ISO-8601>}: the document as
 *     it was then ({@code exists: true} and {@code document} in canonical extended JSON), or
 *     {@code exists: false}.
 * </ul>
 * A malformed {@code _id} or namespace is a 400, an unknown job or namespace a 404, a moment
 * outside the window a 422 that says what the window is.
 */
public final class HistoryApi {

    private HistoryApi() {
    }

    public static Router router(Vertx vertx, DocumentHistory history) {
        Router router = Router.router(vertx);
        router.get("/jobs/:job/documents/history").handler(ctx -> reply(ctx,
                history.history(ctx.pathParam("job"), ctx.queryParams().get("ns"), ctx.queryParams().get("id"))));
        router.get("/jobs/:job/documents/at").handler(ctx -> reply(ctx,
                history.at(ctx.pathParam("job"), ctx.queryParams().get("ns"), ctx.queryParams().get("id"),
                        ctx.queryParams().get("at"))));
        return router;
    }

    private static void reply(RoutingContext ctx, Mono<io.vertx.core.json.JsonObject> answer) {
        Futures.of(answer, ctx.vertx().getOrCreateContext()).onSuccess(ctx::json).onFailure(ctx::fail);
    }
}
