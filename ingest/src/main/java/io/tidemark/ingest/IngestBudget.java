package io.tidemark.ingest;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.tidemark.shared.http.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The global budget of ingest bytes in flight: a request's body counts against it from before it
 * is read until its answer is sent (which for data is after the durable write), so that many
 * agents sending at once cannot make the service hold more than the budget in memory. A request
 * that would go over it, or whose declared length is over the body limit, is refused before a
 * byte of its body is read: 503 with {@code Retry-After}, or 413. A body of unknown length
 * (chunked) counts as the largest body allowed.
 */
final class IngestBudget implements Handler<RoutingContext> {

    /** What 503s advise; agents add jitter, so they do not all come back at once. */
    static final int RETRY_AFTER_SECONDS = 1;

    private final long limit;
    private final long maxBody;
    private final AtomicLong inFlight = new AtomicLong();
    private final IngestMetrics metrics;

    IngestBudget(long limit, long maxBody, IngestMetrics metrics, MeterRegistry registry) {
        this.limit = limit;
        this.maxBody = maxBody;
        this.metrics = metrics;
        Gauge.builder("tidemark.ingest.inflight", inFlight, AtomicLong::get).baseUnit("bytes")
                .description("Request bodies being read or awaiting their durable write").register(registry);
    }

    @Override
    public void handle(RoutingContext ctx) {
        long size = declaredSize(ctx);
        if (size > maxBody) {
            metrics.rejected("too-large");
            ctx.fail(new ApiException(413, "the body (" + size + " bytes) is over the limit of " + maxBody
                    + " bytes (ingest.maxBodyBytes)"));
            return;
        }
        if (size > 0 && !acquire(size)) {
            metrics.rejected("busy");
            ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Integer.toString(RETRY_AFTER_SECONDS));
            ctx.fail(new ApiException(503, "the Backup HTTP service has its limit of bytes in flight"
                    + " (ingest.maxBytesInFlight); retry after " + RETRY_AFTER_SECONDS + " s"));
            return;
        }
        if (size > 0) {
            ctx.addEndHandler(v -> inFlight.addAndGet(-size));
        }
        ctx.next();
    }

    long inFlight() {
        return inFlight.get();
    }

    private boolean acquire(long size) {
        while (true) {
            long now = inFlight.get();
            if (now + size > limit) {
                return false;
            }
            if (inFlight.compareAndSet(now, now + size)) {
                return true;
            }
        }
    }

    private long declaredSize(RoutingContext ctx) {
        String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            try {
                return Math.max(0, Long.parseLong(length.trim()));
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Content-Length is not a number");
            }
        }
        return ctx.request().headers().contains(HttpHeaders.TRANSFER_ENCODING) ? maxBody : 0;
    }
}
