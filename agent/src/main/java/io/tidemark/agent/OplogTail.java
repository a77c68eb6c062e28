package io.tidemark.agent;

import com.mongodb.CursorType;
import com.mongodb.client.model.Filters;
import io.tidemark.shared.oplog.OpTime;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Follows the source's oplog from a position, endlessly. Each (re)query asks for entries at or after
 * the last one seen and requires the first to be exactly that entry: if it is gone, entries after it
 * may have been lost, so the tail fails with {@link OplogPositionLostException} instead of skipping.
 * On a real replica set the query is a tailable-await cursor; where the server ends cursors instead
 * (the embedded test server) the same loop re-queries after a short pause, which is polling.
 */
final class OplogTail {

    private final SourceDeployment source;
    private final Duration pollInterval;

    OplogTail(SourceDeployment source, Duration pollInterval) {
        this.source = source;
        this.pollInterval = pollInterval;
    }

    /**
     * Entries strictly after {@code from}, in oplog order, never completing. When the digest of the
     * entry at {@code from} is known, the source's entry there must match it.
     */
    Flux<RawBsonDocument> from(OpTime from, String fromSha256) {
        AtomicReference<OpTime> last = new AtomicReference<>(from);
        AtomicReference<String> lastSha = new AtomicReference<>(fromSha256);
        return Flux.defer(() -> query(last.get(), lastSha.getAndSet(null)))
                .doOnNext(entry -> last.set(OpTime.of(entry.getTimestamp("ts"))))
                .repeatWhen(done -> done.delayElements(pollInterval));
    }

    private Flux<RawBsonDocument> query(OpTime after, String expectedSha) {
        boolean anchored = !after.equals(OpTime.ZERO);
        var find = source.oplog()
                .find(anchored ? Filters.gte("ts", after.toBson()) : Filters.gt("ts", after.toBson()))
                .cursorType(CursorType.TailableAwait)
                .maxAwaitTime(1, TimeUnit.SECONDS)
                .noCursorTimeout(true)
                .batchSize(1000);
        Flux<RawBsonDocument> entries = Flux.from(find);
        if (!anchored) {
            return entries;
        }
        return entries.switchOnFirst((first, flux) -> {
            if (!first.hasValue()) {
                return flux;
            }
            OpTime seen = OpTime.of(first.get().getTimestamp("ts"));
            if (!seen.equals(after)) {
                return Flux.error(OplogPositionLostException.rolledOver(after, seen));
            }
            if (expectedSha != null && !expectedSha.equals(RawBson.digest(first.get()))) {
                return Flux.error(OplogPositionLostException.rewritten(after));
            }
            return flux.skip(1);
        }).switchIfEmpty(Mono.defer(() -> checkStillPresent(after)).thenMany(Flux.empty()));
    }

    /** No entry at or after the position at all: fine only if the position is still the newest entry. */
    private Mono<Void> checkStillPresent(OpTime after) {
        return source.latestTs().flatMap(latest -> latest.compareTo(after) < 0
                ? Mono.error(OplogPositionLostException.behind(after, latest))
                : Mono.empty());
    }
}
