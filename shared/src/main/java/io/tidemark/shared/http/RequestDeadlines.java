package io.tidemark.shared.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts requests that stop arriving: a connection that sends no complete request headers for
 * {@code idleMillis} (an idle keep-alive connection, or headers trickled or held open), or a
 * request whose body makes no progress for that long, is closed. A slow upload that keeps making
 * progress, and a request the server is still working on or answering (a long snapshot wait, a
 * download), are not cut: only the client's side is timed. A plain idle timeout could not tell
 * these apart.
 *
 * <p>Install with {@link #track} as the server's connection handler and {@link #wrap} around its
 * request handler; all of it runs on the server's event loop.
 */
public final class RequestDeadlines {

    private final Vertx vertx;
    private final long idleMillis;
    private final Map<HttpConnection, Tracked> connections = new HashMap<>();
    private long timer = -1;

    public RequestDeadlines(Vertx vertx, long idleMillis) {
        this.vertx = vertx;
        this.idleMillis = idleMillis;
    }

    /** The server's connection handler. */
    public void track(HttpConnection connection) {
        connections.put(connection, new Tracked(connection, System.nanoTime()));
        connection.closeHandler(v -> connections.remove(connection));
        if (timer < 0) {
            timer = vertx.setPeriodic(Math.max(50, Math.min(1000, idleMillis / 4)), t -> check());
        }
    }

    /** Wraps the server's request handler. */
    public Handler<HttpServerRequest> wrap(Handler<HttpServerRequest> handler) {
        return request -> {
            Tracked tracked = connections.get(request.connection());
            if (tracked != null) {
                tracked.requests.add(new Watched(request, request.bytesRead()));
                tracked.progressAt = System.nanoTime();
            }
            handler.handle(request);
        };
    }

    public void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
    }

    private void check() {
        long now = System.nanoTime();
        for (Tracked tracked : new ArrayList<>(connections.values())) {
            tracked.check(now);
        }
    }

    private record Watched(HttpServerRequest request, long[] bytes) {
        Watched(HttpServerRequest request, long bytesRead) {
            this(request, new long[] {bytesRead});
        }
    }

    private final class Tracked {
        final HttpConnection connection;
        final List<Watched> requests = new ArrayList<>();
        long progressAt;

        Tracked(HttpConnection connection, long now) {
            this.connection = connection;
            this.progressAt = now;
        }

        void check(long now) {
            boolean answered = requests.removeIf(w -> w.request.response().ended() || w.request.response().closed());
            if (answered) {
                progressAt = now; // the client's next request starts its clock now
            }
            boolean clientOwes = requests.isEmpty();
            for (Watched w : requests) {
                if (!w.request.isEnded()) {
                    long read = w.request.bytesRead();
                    if (read != w.bytes[0]) {
                        w.bytes[0] = read;
                        progressAt = now;
                    }
                    clientOwes = true;
                }
            }
            if (!clientOwes) {
                progressAt = now; // the server owes an answer: not the client's time
            } else if (now - progressAt > idleMillis * 1_000_000L) {
                cut();
            }
        }

        private void cut() {
            if (!requests.isEmpty() && requests.get(0).request.version() == HttpVersion.HTTP_2) {
                // Other streams of the connection may be fine: reset only the stalled ones.
                requests.removeIf(w -> {
                    if (!w.request.isEnded()) {
                        w.request.response().reset(8); // CANCEL
                        return true;
                    }
                    return false;
                });
                progressAt = System.nanoTime();
                return;
            }
            connections.remove(connection);
            connection.close();
        }
    }
}
