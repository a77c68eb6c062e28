package io.tidemark.agent;

import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.buffer.Buffer;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Cuts the oplog into batches (by size or by age, whichever comes first) and sends them one at a
 * time, each naming the acknowledged position it follows. Only one batch is in flight and one
 * being filled, and the tail is read only as fast as batches are acknowledged, so a slow service
 * slows the agent's reads instead of growing its memory.
 */
public final class OplogShipper {

    private static final Logger LOG = LoggerFactory.getLogger(OplogShipper.class);
    private static final Object TICK = new Object();
    /** Transient failures are retried with the same {@code prev}, which the service treats idempotently. */
    private static final int SEND_ATTEMPTS = 5;

    private final IngestClient client;
    private final String job;
    private final int maxBytes;
    private final Duration maxAge;

    public OplogShipper(IngestClient client, String job, int maxBytes, Duration maxAge) {
        this.client = client;
        this.job = job;
        this.maxBytes = maxBytes;
        this.maxAge = maxAge;
    }

    /** Ships {@code entries} (which follow {@code from}); emits each acknowledged position. */
    public Flux<OpTime> ship(Flux<RawBsonDocument> entries, OpTime from, Consumer<OpTime> onAck) {
        OpTime[] acked = {from};
        SizeBoundary boundary = new SizeBoundary(maxBytes);
        Flux<Object> withTicks = Flux.merge(64, entries.map(e -> (Object) e),
                Flux.interval(maxAge).onBackpressureDrop().map(t -> TICK));
        return withTicks
                .bufferUntil(item -> item == TICK ? boundary.tick() : boundary.add(RawBson.size((RawBsonDocument) item)))
                .map(OplogShipper::withoutTicks)
                .filter(batch -> !batch.isEmpty())
                .concatMap(batch -> Mono.defer(() -> send(acked[0], batch)).doOnNext(ack -> {
                    acked[0] = ack;
                    onAck.accept(ack);
                }), 1);
    }

    private Mono<OpTime> send(OpTime prev, List<RawBsonDocument> batch) {
        int size = batch.stream().mapToInt(RawBson::size).sum();
        Buffer body = Buffer.buffer(size);
        for (RawBsonDocument d : batch) {
            RawBson.appendTo(body, d);
        }
        OpTime last = OpTime.of(batch.get(batch.size() - 1).getTimestamp("ts"));
        return Mono.defer(() -> Mono.fromCompletionStage(client.sendOplog(job, prev, body).toCompletionStage()))
                .retryWhen(reactor.util.retry.Retry.backoff(SEND_ATTEMPTS, Duration.ofMillis(200))
                        .filter(e -> !(e instanceof IngestRejection))
                        .doBeforeRetry(s -> LOG.warn("job {}: resending oplog batch after {} ({}): {}", job, prev, s.totalRetries() + 1,
                                s.failure().getMessage())))
                .map(ack -> {
                    if (!ack.equals(last)) {
                        throw new IllegalStateException("the service acknowledged " + ack + " for a batch ending at " + last);
                    }
                    return ack;
                });
    }

    private static List<RawBsonDocument> withoutTicks(List<Object> items) {
        List<RawBsonDocument> out = new ArrayList<>(items.size());
        for (Object o : items) {
            if (o != TICK) {
                out.add((RawBsonDocument) o);
            }
        }
        return out;
    }
}
