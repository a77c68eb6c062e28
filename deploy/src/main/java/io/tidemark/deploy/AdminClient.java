package io.tidemark.deploy;

import io.tidemark.shared.security.TlsEngines;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
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
     * Streams {@code GET <base URL><path>} (a restore's {@code /download/<token>}) into
     * {@code file} with the same trust as the API calls, at the pace the disk takes it. No admin
     * token is sent: the link is its own credential. {@code progress} sees the byte count after
     * every buffer, on a Vert.x thread. Fails with the server's JSON error for a 4xx, and when the
     * transfer breaks off before its end (a restore that failed mid-stream resets it).
     */
    Download download(String path, Path file, java.util.function.LongConsumer progress) {
        RequestOptions req = new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(url + path)
                // the body may take hours; only a stalled transfer counts as a timeout
                .setIdleTimeout(120_000);
        try {
            return http.request(req).compose(r -> r.send()).compose(resp -> {
                if (resp.statusCode() >= 400) {
                    return resp.body().map(b -> {
                        String error;
                        try {
                            error = b.toJsonObject().getString("error", "HTTP " + resp.statusCode());
                        } catch (RuntimeException notJson) {
                            error = "HTTP " + resp.statusCode();
                        }
                        throw new CliException(error);
                    });
                }
                resp.pause(); // until the file is open: nothing may arrive without a handler
                return vertx.fileSystem().open(file.toString(), new io.vertx.core.file.OpenOptions()
                        .setWrite(true).setCreate(true).setTruncateExisting(true)).compose(out -> {
                    io.vertx.core.Promise<Download> done = io.vertx.core.Promise.promise();
                    long[] bytes = new long[1];
                    resp.handler(buf -> {
                        bytes[0] += buf.length();
                        out.write(buf);
                        progress.accept(bytes[0]);
                        if (out.writeQueueFull()) {
                            resp.pause();
                            out.drainHandler(v -> resp.resume());
                        }
                    });
                    resp.exceptionHandler(e -> out.close().onComplete(v -> done.tryFail(
                            new CliException("the download broke off after " + bytes[0] + " bytes: " + e.getMessage()))));
                    resp.endHandler(v -> out.flush().compose(f -> out.close())
                            .onSuccess(x -> done.tryComplete(new Download(bytes[0], resp.headers())))
                            .onFailure(e -> done.tryFail(new CliException("cannot write " + file + ": " + e.getMessage()))));
                    resp.resume();
                    return done.future();
                });
            }).toCompletionStage().toCompletableFuture().get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof CliException c) {
                throw c;
            }
            throw new CliException("download from " + url + " failed: " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted while downloading");
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
