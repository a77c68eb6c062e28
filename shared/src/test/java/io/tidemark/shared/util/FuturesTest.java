package io.tidemark.shared.util;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FuturesTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aFutureThatNeverCompletesFailsAtItsDeadlineNamingWhatItWas() {
        Future<String> bounded = Futures.within(Promise.<String>promise().future(), 200, "PUT /agent/v1/jobs/j/oplog");
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> bounded.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertInstanceOf(TimeoutException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("PUT /agent/v1/jobs/j/oplog did not complete within 0.2 s"), e.getCause().getMessage());
    }

    @Test
    void aFutureThatCompletesInTimeKeepsItsOutcome() throws Exception {
        Promise<String> p = Promise.promise();
        Future<String> bounded = Futures.within(p.future(), 5_000, "x");
        vertx.setTimer(50, t -> p.complete("done"));
        assertEquals("done", bounded.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        Future<String> failed = Futures.within(Future.failedFuture(new IllegalStateException("refused")), 5_000, "y");
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> failed.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals("refused", e.getCause().getMessage());
    }
}
