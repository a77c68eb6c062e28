package io.tidemark.groomer;

import io.vertx.core.Context;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;

/**
 * Waits for a store call on the groomer's own thread. Grooms are written as plain sequential
 * code because they are long, careful and rare: the order of their steps is the argument for
 * their safety, and a sequential program states that order best. They never run on an event
 * loop (see {@link GroomerVerticle}); these helpers refuse to block one.
 */
final class Blocking {

    /** Longer than any single store call can sensibly take; a hung store fails the groom, not the process. */
    static final Duration TIMEOUT = Duration.ofMinutes(30);

    private Blocking() {
    }

    static <T> T await(Future<T> future) {
        refuseEventLoop();
        try {
            return future.toCompletionStage().toCompletableFuture().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("a store call took longer than " + TIMEOUT, e);
        }
    }

    static <T> T await(Mono<T> mono) {
        refuseEventLoop();
        return mono.block(TIMEOUT);
    }

    private static void refuseEventLoop() {
        if (Context.isOnEventLoopThread()) {
            throw new IllegalStateException("grooming must not run on an event loop");
        }
    }
}
