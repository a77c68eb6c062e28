package io.tidemark.shared.util;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import reactor.core.publisher.Mono;

/** Bridges Reactor to Vert.x: results come back on the caller's context, never on a driver thread. */
public final class Futures {

    private Futures() {
    }

    public static <T> Future<T> of(Mono<T> mono, Context context) {
        return Future.fromCompletionStage(mono.toFuture(), context);
    }

    public static <T> Future<T> of(Mono<T> mono, Vertx vertx) {
        return of(mono, vertx.getOrCreateContext());
    }
}
