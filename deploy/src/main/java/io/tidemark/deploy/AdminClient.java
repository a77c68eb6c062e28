package io.tidemark.deploy;

import io.tidemark.shared.security.TlsEngines;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.TrustOptions;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The admin commands' client for the REST API. On the server's own machine it finds the URL, the
 * admin token and the certificate pin in the data dir's credentials.json, so no flags are needed.
 */
final class AdminClient implements AutoCloseable {

    private final Vertx vertx = VertxFactory.create();
    private final HttpClient http;
    private final String url;
    private final String token;

    AdminClient(Path dataDir, String urlFlag, String tokenFlag, String pinFlag) {
        JsonObject creds = urlFlag != null && tokenFlag != null ? new JsonObject() : CredentialsFile.read(dataDir);
        this.url = stripSlash(urlFlag != null ? urlFlag : creds.getString("apiUrl", "https://127.0.0.1:8080"));
        this.token = tokenFlag != null ? tokenFlag : creds.getString("adminToken");
        String pin = pinFlag != null ? pinFlag : creds.getString("certificateSha256");
        // Kept alive: a connection the server tears down after an error is not reused, because every
        // error response says "Connection: close" (ErrorResponses). A connection per request instead
        // made the server close each download's connection as it ended, and a response paused for
        // the file's writes could see that close before its last chunks ("the server closed the
        // stream" in CrashSuiteTest, with the chunks still arriving).
        HttpClientOptions options = new HttpClientOptions().setConnectTimeout(5000);
        if (url.startsWith("https")) {
            options.setSsl(true).setSslEngineOptions(TlsEngines.preferred());
            if (pin != null) {
                options.setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(pin))).setVerifyHost(false);
            }
        }
        this.http = vertx.createHttpClient(options);
    }

    JsonObject get(String path) {
        return call(HttpMethod.GET, path, null, 60);
    }

    /** A request that may take a while on the server (waiting for a head, a snapshot). */
    JsonObject get(String path, int timeoutSeconds) {
        return call(HttpMethod.GET, path, null, timeoutSeconds);
    }

    JsonObject post(String path, JsonObject body) {
        return call(HttpMethod.POST, path, body, 60);
    }

    /** A request that may take a while on the server (a groom, a snapshot with wait). */
    JsonObject post(String path, JsonObject body, int timeoutSeconds) {
        return call(HttpMethod.POST, path, body, timeoutSeconds);
    }

    JsonObject patch(String path, JsonObject body) {
        return call(HttpMethod.PATCH, path, body, 60);
    }

    JsonObject delete(String path) {
        return call(HttpMethod.DELETE, path, null, 60);
    }

    private JsonObject call(HttpMethod method, String path, JsonObject body, int timeoutSeconds) {
        RequestOptions req = new RequestOptions().setMethod(method).setAbsoluteURI(url + "/api/v1" + path)
                .putHeader("Authorization", "Bearer " + token).setTimeout(timeoutSeconds * 1000L);
        if (body != null) {
            req.putHeader("Content-Type", "application/json");
        }
        try {
            return http.request(req)
                    .compose(r -> r.send(body == null ? Buffer.buffer() : body.toBuffer()))
                    .compose(resp -> resp.body().map(b -> {
                        JsonObject json = b.length() == 0 ? new JsonObject() : b.toJsonObject();
                        if (resp.statusCode() >= 400) {
                            throw new CliException(json.getString("error", "HTTP " + resp.statusCode()));
                        }
                        return json;
                    }))
                    .toCompletionStage().toCompletableFuture().get(timeoutSeconds + 30L, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof CliException c) {
                throw c;
            }
            throw new CliException("cannot reach the Tidemark API at " + url + ": " + e.getCause().getMessage());
        } catch (Exception e) {
            throw new CliException("cannot reach the Tidemark API at " + url + ": " + e.getMessage());
        }
    }

    /** What a download brought: the bytes written and the response's headers. */
    record Download(long bytes, io.vertx.core.MultiMap headers) {
    }

    /**
     * How long a download may wait: for the connection, and for the next byte (headers or body)
     * once the request is sent. A transfer that keeps moving is never cut, however long it takes.
     */
    record StreamTimeouts(java.time.Duration connect, java.time.Duration idle) {
        static final StreamTimeouts DEFAULT = new StreamTimeouts(java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(60));
    }

    /**
     * Streams {@code GET <base URL><path>} (a restore's {@code /download/<token>}) into
     * {@code file} with the same trust as the API calls, at the pace the disk takes it. No admin
     * token is sent: the link is its own credential. {@code progress} sees the byte count after
     * every buffer, on a Vert.x thread. On success the file is flushed to disk (fsync) and closed.
     * Fails with a {@link CliException} (the server's JSON error for a 4xx or 5xx; what broke and
     * after how many bytes when the transfer breaks off or stalls), and then {@code file} is gone.
     *
     * <p>The wait is watched from the calling thread rather than left to the connection's events:
     * an event that arrives while no handler is listening (a close during the file's opening, say)
     * must not leave the command waiting forever.
     */
    Download download(String path, Path file, StreamTimeouts timeouts, java.util.function.LongConsumer progress) {
        io.vertx.core.file.AsyncFile out;
        try {
            out = vertx.fileSystem().openBlocking(file.toString(), new io.vertx.core.file.OpenOptions()
                    .setWrite(true).setCreate(true).setTruncateExisting(true));
        } catch (RuntimeException e) {
            throw new CliException("cannot create " + file + ": " + e.getMessage());
        }
        StreamState state = new StreamState();
        io.vertx.core.Promise<Download> done = io.vertx.core.Promise.promise();
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url + path)
                .setConnectTimeout(timeouts.connect().toMillis())
                // a second guard, inside Vert.x: a connection that stays silent this long is closed
                .setIdleTimeout(timeouts.idle().toMillis() + 1000);
        http.request(options).onComplete(created -> {
            if (created.failed()) {
                done.tryFail(new CliException("cannot reach " + url + ": " + created.cause().getMessage()));
                return;
            }
            HttpClientRequest request = created.result();
            state.request = request;
            request.send().onComplete(sent -> {
                if (sent.failed()) {
                    done.tryFail(state.broke(sent.cause()));
                    return;
                }
                HttpClientResponse resp = sent.result();
                // Set before anything else: a close reported while no handler listens would be lost.
                resp.exceptionHandler(e -> done.tryFail(state.broke(e)));
                state.touch();
                if (resp.statusCode() >= 400) {
                    resp.body().onComplete(b -> done.tryFail(new CliException(serverError(resp.statusCode(),
                            b.succeeded() ? b.result() : null))));
                    return;
                }
                resp.handler(buf -> {
                    state.bytes += buf.length();
                    state.touch();
                    out.write(buf);
                    progress.accept(state.bytes);
                    if (out.writeQueueFull()) {
                        resp.pause();
                        out.drainHandler(v -> resp.resume());
                    }
                });
                // AsyncFile.flush forces the file's content to the disk: renamed, it is durable
                resp.endHandler(v -> out.flush().compose(f -> out.close())
                        .onSuccess(x -> done.tryComplete(new Download(state.bytes, resp.headers())))
                        .onFailure(e -> done.tryFail(new CliException("cannot write " + file + ": " + e.getMessage()))));
            });
        });
        try {
            return await(done.future(), state, timeouts.idle());
        } catch (CliException e) {
            if (state.request != null) {
                state.request.reset(); // closes an HTTP/1.1 connection: nothing more arrives
            }
            try {
                out.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // already closed, or a write failed: the file goes either way
            }
            deleteQuietly(file);
            throw e;
        }
    }

    /** Waits for the download, failing it once nothing has arrived for {@code idle}. */
    private static Download await(io.vertx.core.Future<Download> done, StreamState state, java.time.Duration idle) {
        java.util.concurrent.CompletableFuture<Download> result = done.toCompletionStage().toCompletableFuture();
        while (true) {
            try {
                return result.get(Math.max(50, Math.min(1000, idle.toMillis() / 4)), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                long silentNanos = System.nanoTime() - state.lastProgress;
                if (silentNanos > idle.toNanos()) {
                    throw new CliException("no data from the server for " + idle.toSeconds() + " s after "
                            + SnapshotsCommand.bytes(state.bytes));
                }
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof CliException c ? c
                        : new CliException(String.valueOf(e.getCause().getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException("interrupted after " + SnapshotsCommand.bytes(state.bytes));
            }
        }
    }

    private static String serverError(int status, Buffer body) {
        try {
            return body.toJsonObject().getString("error", "HTTP " + status);
        } catch (RuntimeException notJson) {
            return "HTTP " + status;
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            java.nio.file.Files.deleteIfExists(file);
        } catch (java.io.IOException ignored) {
            // nothing more to do: a .part file's name says it is incomplete
        }
    }

    /** What the watching thread needs to see of a transfer run by the event loop. */
    private static final class StreamState {
        volatile long lastProgress = System.nanoTime();
        volatile long bytes;
        volatile HttpClientRequest request;

        void touch() {
            lastProgress = System.nanoTime();
        }

        CliException broke(Throwable e) {
            String why = e instanceof io.vertx.core.http.HttpClosedException ? "the server closed the stream"
                    : "the transfer failed (" + e.getMessage() + ")";
            return new CliException(why + " after " + SnapshotsCommand.bytes(bytes));
        }
    }

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    @Override
    public void close() {
        vertx.close();
    }
}
