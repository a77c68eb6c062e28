package io.tidemark.ingest;

import io.vertx.core.Future;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs one job's state-changing requests one after another (an oplog batch must see the tip the
 * previous one left), while different jobs proceed in parallel. Confined to the verticle's event
 * loop, so the map needs no locking.
 */
final class JobSerializer {

    private final Map<String, Future<?>> tails = new HashMap<>();

    <T> Future<T> run(String job, Supplier<Future<T>> task) {
        Future<?> before = tails.getOrDefault(job, Future.succeededFuture());
        Future<T> mine = before.transform(ignored -> task.get());
        tails.put(job, mine);
        mine.onComplete(ar -> tails.remove(job, mine));
        return mine;
    }
}
