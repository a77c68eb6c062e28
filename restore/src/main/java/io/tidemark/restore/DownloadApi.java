package io.tidemark.restore;

import io.tidemark.shared.http.ErrorResponses;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /download/:token}: a restore's artifact, mounted at the front end's root and not
 * behind the admin token, because the link's token is its credential (256 random bits, single
 * use, expiring). The body is the mongodump archive ({@code .archive}, or {@code .archive.gz}
 * for a gzipped restore), sent chunked as it is produced, at the pace the client reads.
 *
 * <p>A restore that fails mid-stream (a corrupt block, say) resets the connection, so the client
 * sees a failed transfer, never a short file that ends like a complete one; {@code GET
 * /api/v1/restores/:id} then says what went wrong. A link that is unknown answers 404, one that
 * is used or expired 410, with a JSON error saying which.
 */
public final class DownloadApi {

    /** Lets scripts show progress and an ETA: the uncompressed BSON bytes the archive carries. */
    public static final String LOGICAL_BYTES_HEADER = "X-Tidemark-Logical-Bytes";
    public static final String RESTORE_ID_HEADER = "X-Tidemark-Restore";

    private DownloadApi() {
    }

    public static Router router(Vertx vertx, RestoreService restores) {
        Router router = Router.router(vertx);
        router.get(DownloadLinks.PATH + ":token").handler(ctx -> download(ctx, restores));
        router.route(DownloadLinks.PATH + "*").failureHandler(ErrorResponses::handle);
        return router;
    }

    private static void download(RoutingContext ctx, RestoreService restores) {
        restores.claim(ctx.pathParam("token")).onSuccess(download -> {
            HttpServerResponse response = ctx.response();
            response.setStatusCode(200)
                    .putHeader(HttpHeaders.CONTENT_TYPE, download.gzip() ? "application/gzip" : "application/octet-stream")
                    .putHeader("Content-Disposition", "attachment; filename=\"" + download.filename() + "\"")
                    // the front end compresses responses for clients that ask; an archive is
                    // gzipped on request already, and deflating a stream this size on the event
                    // loop would stall it
                    .putHeader(HttpHeaders.CONTENT_ENCODING, HttpHeaders.IDENTITY)
                    .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
                    .putHeader(RESTORE_ID_HEADER, download.id())
                    .putHeader(LOGICAL_BYTES_HEADER, Long.toString(download.source().logicalBytes()));
            ResponseStreamer streamer = ResponseStreamer.stream(ctx.vertx().getOrCreateContext(), response, download.body());
            streamer.result().onComplete(ar -> restores.finished(download, streamer.bytes(), ar.cause()));
        }).onFailure(ctx::fail);
    }
}
