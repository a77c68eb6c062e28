package io.tidemark.shared.util;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import reactor.core.publisher.Mono;

/**
 * Bridges Reactor to Vert.x (results come back on the caller's context, never on a driver
 * thread), and bounds how long a Vert.x future may take.
 */
public final class Futures {

    private Futures() {
    }

    public static <T> Future<T> of(Mono<T> mono, Context context) {
        return Future.fromCompletionStage(mono.toFuture(), context);
    }

    public static <T> Future<T> of(Mono<T> mono, Vertx vertx) {
        return of(mono, vertx.getOrCreateContext());
    }

    /**
     * {@code future}, or a failure with a {@link java.util.concurrent.TimeoutException} naming
     * {@code what} once {@code millis} have passed without it completing (Vert.x's own
     * {@link Future#timeout}, with a message that says what timed out): a caller that retries on
     * failure (an agent) then never waits forever on a request whose own timeouts did not fire.
     */
    public static <T> Future<T> within(Future<T> future, long millis, String what) {
        return future.timeout(millis, java.util.concurrent.TimeUnit.MILLISECONDS).recover(e -> Future.failedFuture(
                future.isComplete() ? e : new java.util.concurrent.TimeoutException(what + " did not complete within " + (millis / 1000.0) + " s")));
    }
}
