package io.tidemark.deploy;

import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.PinnedCertificateTrust;
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

    private final Vertx vertx = Vertx.vertx();
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
            options.setSsl(true);
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

    private static String stripSlash(String s) {
        return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
    }

    @Override
    public void close() {
        vertx.close();
    }
}
