package io.tidemark.restore.rebuild;

import io.tidemark.applier.TransactionsInFlight;
import io.tidemark.restore.pit.PitWindows;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.OplogStore;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

import java.time.Duration;

/**
 * Reads the stored oplog before a snapshot's position to find the transactions pending there
 * ({@link TransactionsInFlight}): from {@code lookback} before the position (or the oplog store's
 * start, if later), then walks back any chain that began earlier. A prepared transaction older
 * than the lookback that is still undecided at the position is not found; its commit then fails
 * the head loudly as divergence (never a silent difference), and a longer lookback finds it.
 */
final class InFlightScan {

    private static final int BATCHES_AHEAD = 2;

    private final OplogStore oplog;
    private final Scheduler work;

    InFlightScan(OplogStore oplog, Scheduler work) {
        this.oplog = oplog;
        this.work = work;
    }

    Mono<TransactionsInFlight> at(String job, OpTime position, OpTime storeStart, Duration lookback) {
        OpTime back = new OpTime(Math.max(0, position.seconds() - lookback.toSeconds()), 0);
        OpTime from = back.compareTo(storeStart) > 0 ? back : storeStart;
        return Mono.defer(() -> {
            TransactionsInFlight inFlight = new TransactionsInFlight();
            if (from.compareTo(position) >= 0) {
                return Mono.just(inFlight);
            }
            return oplog.chainAfter(job, from, BATCHES_AHEAD)
                    .takeUntil(b -> b.info().last().compareTo(position) >= 0)
                    .publishOn(work, 1)
                    .doOnNext(batch -> {
                        for (RawBsonDocument e : PitWindows.entries(batch)) {
                            if (!OpTime.of(e.getTimestamp("ts")).isAfter(position)) {
                                inFlight.add(e);
                            }
                        }
                    })
                    .then(Mono.fromCallable(() -> {
                        inFlight.complete(ts -> entryAt(job, ts));
                        return inFlight;
                    }).subscribeOn(work));
        });
    }

    /** The stored entry at {@code ts}, or null; blocking (on {@code work}). */
    private RawBsonDocument entryAt(String job, BsonTimestamp ts) {
        OpTime at = OpTime.of(ts);
        OpTime before = at.increment() > 0 ? new OpTime(at.seconds(), at.increment() - 1) : new OpTime(at.seconds() - 1, 0xFFFFFFFFL);
        OplogStore.Batch batch = oplog.readAfter(job, before, 1).next().block(Duration.ofMinutes(5));
        if (batch == null) {
            return null;
        }
        for (RawBsonDocument e : PitWindows.entries(batch)) {
            if (e.getTimestamp("ts").equals(ts)) {
                return e;
            }
        }
        return null;
    }
}
