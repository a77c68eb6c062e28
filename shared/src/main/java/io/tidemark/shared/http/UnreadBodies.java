package io.tidemark.shared.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * Answers a request whose body has not been read (refused before reading it: no credentials, too
 * large, no budget) and closes its connection, rather than reading a body nobody will use, however
 * large it is. On HTTP/1.1 the connection is closed after a short, bounded linger that discards
 * what the client is still sending: closing at once, with its bytes unread, would reset the
 * connection and could destroy the answer before the client reads it (the lingering close web
 * servers do). On HTTP/2 only the stream is reset.
 */
final class UnreadBodies {

    /** At most this many bytes are discarded, and for at most this long, before the connection closes. */
    static final long LINGER_BYTES = 256 * 1024;
    static final long LINGER_MILLIS = 2_000;

    private UnreadBodies() {
    }

    static void answerAndClose(RoutingContext ctx, Buffer body) {
        HttpServerRequest request = ctx.request();
        if (request.version() == HttpVersion.HTTP_2) {
            ctx.response().end(body).onComplete(ar -> ctx.response().reset(0));
            return;
        }
        HttpConnection connection = request.connection();
        ctx.response().putHeader("Connection", "close").end(body).onComplete(ar -> {
            if (ar.failed() || request.isEnded()) {
                connection.close();
                return;
            }
            long[] discarded = {0};
            long timer = ctx.vertx().setTimer(LINGER_MILLIS, t -> connection.close());
            try {
                request.exceptionHandler(e -> { })
                        .handler(chunk -> {
                            discarded[0] += chunk.length();
                            if (discarded[0] > LINGER_BYTES) {
                                ctx.vertx().cancelTimer(timer);
                                connection.close();
                            }
                        })
                        .endHandler(v -> {
                            ctx.vertx().cancelTimer(timer);
                            connection.close();
                        })
                        .resume();
            } catch (IllegalStateException alreadyRead) {
                ctx.vertx().cancelTimer(timer);
                connection.close();
            }
        });
    }
}
