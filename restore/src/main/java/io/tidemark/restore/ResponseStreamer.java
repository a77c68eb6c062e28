package io.tidemark.restore;

import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.ByteBuffer;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;

/**
 * Writes a backpressured stream of buffers to an HTTP response, chunked, and pulls from the
 * stream only as fast as the socket drains: one buffer is requested whenever the response's write
 * queue has room, and while it is full nothing is requested until its drain handler fires. A slow
 * client therefore slows the block reads behind the stream instead of filling memory.
 *
 * <p>How it ends:
 * <ul>
 *   <li>the stream completes: the response is ended (the final empty chunk tells the client the
 *       body is whole);
 *   <li>the stream fails: the connection is reset, so the client sees a broken transfer and never
 *       a body that merely looks complete; the result fails with the stream's error;
 *   <li>the client goes away: the stream is cancelled (which stops the reads) and the result
 *       fails with {@link ClientGoneException}.
 * </ul>
 * All response calls happen on the request's context; the stream may emit on any thread.
 */
final class ResponseStreamer implements CoreSubscriber<ByteBuffer> {

    /** The client closed the connection or the socket failed before the body was complete. */
    static final class ClientGoneException extends RuntimeException {
        ClientGoneException(String message) {
            super(message);
        }
    }

    /**
     * Bytes queued in the socket before the response counts as full. Large enough that the next
     * buffer is produced (two thread hops away) before the socket runs dry at loopback speed, and
     * small enough to keep memory per download at about a MB.
     */
    static final int WRITE_QUEUE_BYTES = 1 << 20;

    private final Context context;
    private final HttpServerResponse response;
    private final Promise<Long> result = Promise.promise();
    private Subscription subscription;
    private long bytes;
    private boolean awaitingDrain;
    private boolean done;

    private ResponseStreamer(Context context, HttpServerResponse response) {
        this.context = context;
        this.response = response;
    }

    /**
     * Streams {@code body} into {@code response}, whose status and headers the caller has set.
     * Call on the request's context. {@link #result()} completes with the bytes written once the
     * response has ended, or fails as described above.
     */
    static ResponseStreamer stream(Context context, HttpServerResponse response, Flux<ByteBuffer> body) {
        ResponseStreamer streamer = new ResponseStreamer(context, response);
        response.setChunked(true);
        response.setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
        response.drainHandler(v -> {
            if (streamer.awaitingDrain) {
                streamer.awaitingDrain = false;
                streamer.pull();
            }
        });
        response.closeHandler(v -> streamer.clientGone("the client closed the connection"));
        response.exceptionHandler(e -> streamer.clientGone("the connection failed: " + e.getMessage()));
        body.subscribe(streamer);
        if (response.closed()) {
            // gone before the first byte: no close event will come any more
            streamer.clientGone("the client closed the connection");
        }
        return streamer;
    }

    Future<Long> result() {
        return result.future();
    }

    /** Bytes handed to the response so far. */
    long bytes() {
        return bytes;
    }

    @Override
    public void onSubscribe(Subscription s) {
        context.runOnContext(v -> {
            subscription = s;
            if (done) {
                s.cancel();
            } else {
                pull();
            }
        });
    }

    @Override
    public void onNext(ByteBuffer buffer) {
        context.runOnContext(v -> {
            if (done) {
                return;
            }
            if (response.closed()) {
                clientGone("the client closed the connection");
                return;
            }
            bytes += buffer.remaining();
            // wraps, does not copy: nothing writes to a buffer once the stream has emitted it
            response.write(BufferInternal.buffer(Unpooled.wrappedBuffer(buffer)));
            pull();
        });
    }

    @Override
    public void onError(Throwable error) {
        context.runOnContext(v -> {
            if (done) {
                return;
            }
            done = true;
            // HTTP/1.1: closes the connection before the last chunk; the client's read fails
            response.reset();
            result.fail(error);
        });
    }

    @Override
    public void onComplete() {
        context.runOnContext(v -> {
            if (done) {
                return;
            }
            done = true;
            response.end().onComplete(ar -> {
                if (ar.succeeded()) {
                    result.complete(bytes);
                } else {
                    result.fail(new ClientGoneException("the last bytes could not be sent: " + ar.cause().getMessage()));
                }
            });
        });
    }

    private void pull() {
        if (done) {
            return;
        }
        if (response.writeQueueFull()) {
            awaitingDrain = true;
        } else {
            subscription.request(1);
        }
    }

    private void clientGone(String why) {
        if (done) {
            return;
        }
        done = true;
        if (subscription != null) {
            subscription.cancel();
        }
        result.fail(new ClientGoneException(why + " after " + bytes + " bytes"));
    }
}
