package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.TrustOptions;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random and mutated requests on every agent, REST and download endpoint, with and without
 * credentials: every answer is a 4xx (a read-only GET with the admin token may be 2xx), never a
 * 5xx or a hang, and the target job's stored position, state and batches are unchanged. Every
 * input the fuzzer sends to a route that changes state carries at least one defect, so a 2xx there
 * is a bug. Fixed seed; {@code -Dtidemark.fuzz.requests=100000} (and {@code
 * -Dtidemark.fuzz.seed=...}) for a longer run.
 */
class HttpFuzzTest {

    private static final int REQUESTS = Integer.getInteger("tidemark.fuzz.requests", 2000);
    private static final long SEED = Long.getLong("tidemark.fuzz.seed", 20261203L);
    private static final int LANES = 4;
    private static final OpTime START = new OpTime(1_700_000_000L, 1);
    private static final List<HttpMethod> METHODS = List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT,
            HttpMethod.DELETE, HttpMethod.PATCH, HttpMethod.HEAD, HttpMethod.OPTIONS);

    private static final java.util.concurrent.atomic.AtomicInteger CLIENT_TIMEOUTS = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.util.concurrent.atomic.AtomicInteger CONNECTION_TIMEOUTS = new java.util.concurrent.atomic.AtomicInteger();
    private static final Map<Integer, Integer> STATUSES = new java.util.concurrent.ConcurrentHashMap<>();

    @TempDir
    static Path dataDir;

    static TidemarkServer server;
    static Vertx vertx;
    static JsonObject creds;
    static String job;
    static OpTime tip;
    static long generation;

    @BeforeAll
    static void start() {
        server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of("TIDEMARK_INGEST_MAXBODYBYTES", "1048576",
                "TIDEMARK_INGEST_MAXBYTESINFLIGHT", "8388608")));
        vertx = Vertx.vertx();
        creds = CredentialsFile.read(server.config().dataPath());
        try (IngestClient agent = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"),
                creds.getString("certificateSha256"), null)) {
            job = CaptureHarness.join(agent.register("fuzz-target", "host")).getString("job");
            generation = CaptureHarness.join(agent.beginSync(job, START, START));
            CaptureHarness.join(agent.putCollection(job, generation, "db.c", CaptureHarness.bytes(collectionEntry())));
            CaptureHarness.join(agent.putSlice(job, generation, "db.c", 0, Buffer.buffer(CaptureHarness.bytes(raw(
                    new BsonDocument("_id", new BsonInt32(1)))))));
            OpTime a = new OpTime(START.seconds(), 2);
            OpTime b = new OpTime(START.seconds(), 3);
            tip = CaptureHarness.join(agent.sendOplog(job, START, Buffer.buffer(entries(a, b))));
        }
    }

    @AfterAll
    static void stop() {
        vertx.close();
        server.close();
    }

    @Test
    void randomAndMutatedRequestsAreRefusedAndChangeNothing() throws Exception {
        CaptureHarness.await("the stored position to be recorded", java.time.Duration.ofSeconds(10),
                () -> tip.toJson().equals(CaptureHarness.job(server, "fuzz-target").getJsonObject("storedTs")));
        CaptureHarness.awaitBound(server, job);
        JsonObject jobBefore = CaptureHarness.job(server, "fuzz-target");
        List<byte[]> batchesBefore = CaptureHarness.storedEntries(server.stores().oplog(), job, START);
        int jobsBefore = CaptureHarness.join(server.stores().jobs().list()).size();
        int keysBefore = CaptureHarness.join(server.stores().keys().list()).size();

        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> lanes = new ArrayList<>();
        for (int lane = 0; lane < LANES; lane++) {
            Random random = new Random(SEED + lane);
            int count = REQUESTS / LANES;
            Thread t = new Thread(() -> runLane(random, count, failures), "fuzz-lane-" + lane);
            lanes.add(t);
            t.start();
        }
        long started = System.nanoTime();
        for (Thread t : lanes) {
            t.join();
        }
        System.out.printf("fuzz: %d requests in %d ms, answers by status %s, pooled-connection timeouts resent %d (%d of them waiting for a connection)%n", REQUESTS,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), new java.util.TreeMap<>(STATUSES), CLIENT_TIMEOUTS.get(), CONNECTION_TIMEOUTS.get());
        assertTrue(failures.isEmpty(), failures.size() + " bad answers (seed " + SEED + "), the first: "
                + String.join("\n", failures.subList(0, Math.min(15, failures.size()))));

        assertEquals(jobBefore, CaptureHarness.job(server, "fuzz-target"), "the job's stored document is unchanged");
        List<byte[]> batchesAfter = CaptureHarness.storedEntries(server.stores().oplog(), job, START);
        assertEquals(batchesBefore.size(), batchesAfter.size(), "stored entries");
        for (int i = 0; i < batchesBefore.size(); i++) {
            assertTrue(Arrays.equals(batchesBefore.get(i), batchesAfter.get(i)), "stored entry " + i + " is unchanged");
        }
        assertEquals(jobsBefore, CaptureHarness.join(server.stores().jobs().list()).size(), "no job was registered");
        assertEquals(keysBefore, CaptureHarness.join(server.stores().keys().list()).size(), "no key was created");
    }

    private static void runLane(Random random, int count, List<String> failures) {
        Request current = null;
        HttpClient http = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(false).setKeepAlive(true)
                .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(creds.getString("certificateSha256")))),
                new PoolOptions().setHttp1MaxSize(2));
        try {
            Request previous = null;
            for (int i = 0; i < count; i++, previous = current) {
                Request r = generate(random);
                current = r;
                int status;
                try {
                    status = send(http, r);
                } catch (Exception e) {
                    if (!timedOut(e)) {
                        continue; // a connection the server closed after refusing a body it did not read is fine
                    }
                    // Under a heavily loaded machine a pooled client request has been seen to time out
                    // (about 1 in 200-300 requests at a load of 10-25; not root-caused, see the counts this
                    // test prints: a timeout waiting for a pooled connection is the client's, one on an open
                    // connection may be the server's). What must never happen is that the server does not
                    // answer the request: so send it again, alone, on a fresh connection.
                    CLIENT_TIMEOUTS.incrementAndGet();
                    if (String.valueOf(e.getCause()).contains("getting a connection")) {
                        CONNECTION_TIMEOUTS.incrementAndGet();
                    }
                    HttpClient fresh = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setVerifyHost(false)
                            .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(creds.getString("certificateSha256")))));
                    try {
                        status = send(fresh, r);
                    } catch (Exception again) {
                        if (timedOut(again)) {
                            failures.add("HANG " + r + " (" + again.getCause() + ")\n   after " + previous);
                        }
                        continue;
                    } finally {
                        fresh.close();
                    }
                }
                STATUSES.merge(status, 1, Integer::sum);
                boolean ok = status >= 400 && status < 500 || status >= 200 && status < 300 && r.mayBeOk;
                if (!ok) {
                    failures.add(status + " " + r);
                }
            }
        } finally {
            http.close();
        }
    }

    private static boolean timedOut(Exception e) {
        Throwable cause = e.getCause() != null ? e.getCause() : e;
        return cause instanceof java.util.concurrent.TimeoutException || String.valueOf(cause).contains("imeout");
    }

    private static int send(HttpClient http, Request r) throws Exception {
        RequestOptions options = new RequestOptions().setMethod(r.method).setAbsoluteURI(r.url).setTimeout(20_000);
        r.headers.forEach(options::putHeader);
        Future<Integer> status = http.request(options).compose(req -> {
            if (r.chunked) {
                req.setChunked(true);
            }
            return req.send(Buffer.buffer(r.body));
        }).compose(resp -> resp.body().map(b -> resp.statusCode()));
        return status.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** One request and what it may answer. */
    private record Request(HttpMethod method, String url, Map<String, String> headers, byte[] body, boolean chunked,
                           boolean mayBeOk, String what) {
        @Override
        public String toString() {
            String shown = new String(body, 0, Math.min(body.length, 120), StandardCharsets.ISO_8859_1).replaceAll("[^ -~]", ".");
            return method + " " + url.replaceAll("https://127.0.0.1:\\d+", "") + " [" + what + "] " + headers.keySet()
                    + " body(" + body.length + "): " + shown;
        }
    }

    private enum Credential { NONE, GARBAGE, AGENT, ADMIN }

    // ---- generation

    private static Request generate(Random random) {
        int kind = random.nextInt(100);
        if (kind < 12) {
            return unauthenticated(random);
        }
        if (kind < 50) {
            return agent(random);
        }
        if (kind < 90) {
            return api(random);
        }
        return download(random);
    }

    private static String ingest(String path) {
        return server.ingestUrl() + path;
    }

    private static String api(String path) {
        return server.apiUrl() + "/api/v1" + path;
    }

    /** Anything at all, with no credential or a wrong one: never more than a 4xx. */
    private static Request unauthenticated(Random random) {
        Credential credential = List.of(Credential.NONE, Credential.GARBAGE, Credential.AGENT, Credential.ADMIN)
                .get(random.nextInt(4));
        boolean toIngest = random.nextBoolean();
        // the wrong kind of credential for the server
        if (credential == Credential.AGENT && !toIngest || credential == Credential.ADMIN && toIngest) {
            credential = credential;
        } else if (credential == Credential.AGENT || credential == Credential.ADMIN) {
            credential = toIngest ? Credential.ADMIN : Credential.AGENT;
        }
        String path = pick(random, toIngest ? agentPaths() : apiPaths());
        String url = toIngest ? ingest(path) : api(path);
        byte[] body = random.nextBoolean() ? jsonDefect(random, templateFor(random)).getBytes(StandardCharsets.UTF_8) : bsonDefect(random);
        return new Request(pick(random, METHODS), url, headers(random, credential, randomType(random)), body,
                random.nextInt(5) == 0, false, "unauthenticated " + credential);
    }

    private static List<String> agentPaths() {
        return List.of("/agent/v1/register", "/agent/v1/jobs/" + job + "/heartbeat", "/agent/v1/jobs/" + job + "/resync-required",
                "/agent/v1/jobs/" + job + "/sync/begin", "/agent/v1/jobs/" + job + "/sync/" + generation + "/end",
                "/agent/v1/jobs/" + job + "/sync/" + generation + "/collections/db.c",
                "/agent/v1/jobs/" + job + "/sync/" + generation + "/slices/1?ns=db.c",
                "/agent/v1/jobs/" + job + "/oplog?prev=" + tip, "/agent/v1/jobs/" + job + "/oplog?prev=" + START,
                "/agent/v1/nothing-here", "/agent/v1/jobs/%00/heartbeat", "/agent/v1/jobs/" + "x".repeat(300) + "/oplog?prev=1:1");
    }

    private static List<String> apiPaths() {
        return List.of("/jobs", "/jobs/" + job, "/jobs/fuzz-target/resync", "/jobs/" + job + "/policy", "/jobs/" + job + "/groom",
                "/jobs/" + job + "/check", "/jobs/" + job + "/check?readData=maybe", "/jobs/" + job + "/snapshots",
                "/jobs/" + job + "/snapshots/nope", "/jobs/" + job + "/restores", "/restores/nope", "/keys", "/keys/nope",
                "/jobs/" + job + "/head/hashes?waitSeconds=0", "/jobs/no-such-job/policy", "/jobs/" + job + "/move",
                "/daemons/d-fuzz/drain", "/nothing-here");
    }

    /** An agent endpoint with the agent key and a defective body (or a wrong method or content type). */
    private static Request agent(Random random) {
        String jobPath = "/agent/v1/jobs/" + job;
        int route = random.nextInt(8);
        long gen = random.nextInt(4) == 0 ? random.nextInt(5) : generation;
        return switch (route) {
            case 0 -> json(random, HttpMethod.POST, ingest("/agent/v1/register"), Credential.AGENT, new JsonObject()
                    .put("deployment", "fuzz-target").put("agentVersion", "0.1.0").put("hostname", "h"));
            case 1 -> json(random, HttpMethod.POST, ingest(jobPath + "/heartbeat"), Credential.AGENT, new JsonObject()
                    .put("agentVersion", "0.1.0").put("hostname", "h").put("state", "following").put("lagSeconds", 1.0)
                    .put("sourceTs", tip.toJson()));
            case 2 -> json(random, HttpMethod.POST, ingest(jobPath + "/resync-required"), Credential.AGENT,
                    new JsonObject().put("reason", "the oplog rolled over"));
            case 3 -> json(random, HttpMethod.POST, ingest(jobPath + "/sync/begin"), Credential.AGENT, new JsonObject()
                    .put("startTs", START.toJson()).put("fetchStartTs", START.toJson()).put("fetchStartSha256", "a".repeat(64)));
            case 4 -> json(random, HttpMethod.POST, ingest(jobPath + "/sync/" + gen + "/end"), Credential.AGENT, new JsonObject()
                    .put("endTs", tip.toJson()).put("documents", 1).put("collections", 1));
            case 5 -> bson(random, HttpMethod.PUT, ingest(jobPath + "/sync/" + gen + "/collections/db.c"),
                    CaptureHarness.bytes(collectionEntry()));
            case 6 -> bson(random, HttpMethod.PUT, ingest(jobPath + "/sync/" + gen + "/slices/" + random.nextInt(3) + "?ns=db.c"),
                    CaptureHarness.bytes(raw(new BsonDocument("_id", new BsonInt32(random.nextInt(1000))))));
            default -> {
                OpTime prev = random.nextInt(3) == 0 ? START : tip;
                yield bson(random, HttpMethod.POST, ingest(jobPath + "/oplog?prev=" + prev),
                        entries(new OpTime(tip.seconds(), tip.increment() + 1), new OpTime(tip.seconds(), tip.increment() + 2)));
            }
        };
    }

    /** A REST endpoint with the admin token: GETs may succeed; anything that changes state gets a defect. */
    private static Request api(Random random) {
        String jobPath = "/jobs/" + job;
        int route = random.nextInt(11);
        return switch (route) {
            case 0 -> {
                // reads, with random methods: only a GET (or HEAD) may succeed
                String path = pick(random, List.of("/jobs", jobPath, jobPath + "/policy", jobPath + "/snapshots", jobPath + "/restores",
                        "/keys", jobPath + "/check", jobPath + "/head/hashes?waitSeconds=0",
                        jobPath + "/head/hashes?waitSeconds=0&atLeast=" + randomToken(random), "/restores/" + "0".repeat(24), jobPath + "/snapshots/x"));
                HttpMethod method = random.nextInt(3) == 0 ? pick(random, List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.OPTIONS,
                        HttpMethod.PATCH)) : HttpMethod.GET;
                byte[] body = random.nextInt(4) == 0 ? jsonDefect(random, new JsonObject().put("x", 1)).getBytes(StandardCharsets.UTF_8)
                        : new byte[0];
                yield new Request(method, api(path), headers(random, Credential.ADMIN, "application/json"), body, false,
                        method == HttpMethod.GET || method == HttpMethod.HEAD, "read");
            }
            case 1 -> json(random, HttpMethod.POST, api("/keys"), Credential.ADMIN, new JsonObject().put("kind", "agent").put("name", "n"));
            case 2 -> json(random, random.nextBoolean() ? HttpMethod.PUT : HttpMethod.POST, api(jobPath + "/policy"), Credential.ADMIN,
                    new JsonObject().put("snapshotIntervalHours", 6).put("intervalDays", 2).put("dailyDays", 7)
                            .put("weeklyWeeks", 4).put("monthlyMonths", 13));
            case 3 -> json(random, HttpMethod.POST, api(jobPath + "/groom"), Credential.ADMIN, new JsonObject().put("dryRun", true));
            case 4 -> json(random, HttpMethod.POST, api(jobPath + "/snapshots"), Credential.ADMIN, new JsonObject().put("wait", false));
            case 5 -> json(random, HttpMethod.POST, api(jobPath + "/restores"), Credential.ADMIN, pick(random, List.of(
                    new JsonObject().put("atTs", tip.toString()),
                    new JsonObject().put("snapshot", "0".repeat(24)).put("gzip", true),
                    new JsonObject().put("at", "2026-01-01T00:00:00Z").put("delivery", "push").put("target", "mongodb://127.0.0.1:1/"))));
            case 6 -> json(random, HttpMethod.POST, api(jobPath + "/resync"), Credential.ADMIN, new JsonObject());
            case 7 -> new Request(HttpMethod.DELETE, api("/keys/" + randomToken(random)), headers(random, Credential.ADMIN, null),
                    new byte[0], false, false, "revoke an unknown key");
            case 8 -> json(random, HttpMethod.POST, api(jobPath + "/move"), Credential.ADMIN, new JsonObject().put("to", "d-fuzz"));
            case 9 -> json(random, HttpMethod.POST, api("/daemons/" + randomToken(random) + "/drain"), Credential.ADMIN,
                    new JsonObject().put("to", "d-fuzz"));
            default -> new Request(pick(random, METHODS), api(pick(random, List.of("/nothing", "/jobs/" + randomToken(random) + "/policy",
                    "/jobs/" + job + "/snapshots/" + randomToken(random), "/" + "a/".repeat(random.nextInt(50))))),
                    headers(random, Credential.ADMIN, randomType(random)), bsonDefect(random), random.nextBoolean(),
                    false, "unknown resource");
        };
    }

    private static Request download(Random random) {
        String token = pick(random, List.of(randomToken(random), "", "..%2F..%2Fetc%2Fpasswd", "x".repeat(2000), "%00"));
        Credential credential = pick(random, List.of(Credential.NONE, Credential.ADMIN, Credential.GARBAGE));
        return new Request(pick(random, METHODS), server.apiUrl() + "/download/" + token, headers(random, credential, randomType(random)),
                random.nextBoolean() ? new byte[0] : bsonDefect(random), false, false, "download");
    }

    // ---- bodies

    /** A JSON route with a defective body: at least one thing about it is wrong. */
    private static Request json(Random random, HttpMethod method, String url, Credential credential, JsonObject template) {
        if (random.nextInt(10) == 0) {
            // a well-formed body of the wrong type
            return new Request(method, url, headers(random, credential, pick(random, List.of("text/plain", "application/bson",
                    "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"))),
                    (template.isEmpty() ? new JsonObject().put("x", 1) : template).encode().getBytes(StandardCharsets.UTF_8),
                    false, false, "json as another type");
        }
        return new Request(method, url, headers(random, credential, "application/json"),
                jsonDefect(random, template).getBytes(StandardCharsets.UTF_8), random.nextInt(8) == 0, false, "json defect");
    }

    private static JsonObject templateFor(Random random) {
        return new JsonObject().put("deployment", "x").put("reason", "r").put("startTs", START.toJson()).put("kind", "agent");
    }

    /** Text that is not a valid body for {@code template}'s route, however it is read. */
    static String jsonDefect(Random random, JsonObject template) {
        JsonObject body = template.copy();
        switch (random.nextInt(11)) {
            case 0 -> {
                return pick(random, List.of("null", "[]", "[" + template.encode() + "]", "5", "-1e999", "\"text\"", "true", "false",
                        "{}}", "{\"a\":}", "\u0000", "{\"a\":1,}", "NaN", "{'a': 1}"));
            }
            case 1 -> {
                String text = body.encode();
                return text.substring(0, Math.max(1, random.nextInt(text.length())));
            }
            case 2 -> {
                int depth = pick(random, List.of(9, 50, 2000, 100_000));
                return "{\"x\":".repeat(depth) + "1" + "}".repeat(depth);
            }
            case 3 -> body.put("unknown" + random.nextInt(100), random.nextInt());
            case 4 -> body.put(pick(random, keysOrX(body)), "s".repeat(JsonBodiesBound.MAX + 1 + random.nextInt(200_000)));
            case 5 -> {
                byte[] bytes = new byte[1 + random.nextInt(300)];
                random.nextBytes(bytes);
                return new String(bytes, StandardCharsets.ISO_8859_1);
            }
            case 6 -> body.put("k" + "e".repeat(JsonBodiesBound.MAX), 1);
            default -> {
                // a known field with a value of the wrong type or out of range
                if (body.isEmpty()) {
                    return "[]";
                }
                String key = pick(random, new ArrayList<>(body.fieldNames()));
                body.put(key, wrongValue(random, body.getValue(key)));
            }
        }
        return body.encode();
    }

    private static List<String> keysOrX(JsonObject body) {
        List<String> keys = new ArrayList<>(body.fieldNames());
        return keys.isEmpty() ? List.of("x") : keys;
    }

    private static Object wrongValue(Random random, Object current) {
        if (current instanceof String) {
            return pick(random, List.of(5, 1.5, true, new JsonObject().put("$gt", ""), new JsonArray().add("x")));
        }
        if (current instanceof Boolean) {
            return pick(random, List.of("true", 1, 0, new JsonObject(), new JsonArray()));
        }
        if (current instanceof Double) {
            // a field of seconds or a ratio: a fraction is right there, so no 1.5
            return pick(random, List.of("1", -1, 1e300, -1e300, true, new JsonObject(), new JsonArray().add(1)));
        }
        if (current instanceof Number) {
            return pick(random, List.of("1", -1, 1e300, -1e300, 1.5, true, new JsonObject(), new JsonArray().add(1)));
        }
        if (current instanceof JsonObject o) {
            return pick(random, List.of("1:1", 5, new JsonArray(), true,
                    o.copy().put("t", -1), o.copy().put("i", 1L << 40), o.copy().put("t", "1"), o.copy().put("t", 1.5),
                    o.copy().put("extra", 1), new JsonObject().put("t", 1)));
        }
        return 5;
    }

    /** A BSON route with a defective body. */
    private static Request bson(Random random, HttpMethod method, String url, byte[] valid) {
        if (random.nextInt(10) == 0) {
            return new Request(method, url, headers(random, Credential.AGENT, pick(random, List.of("application/json", "text/plain",
                    "application/octet-stream"))), valid, false, false, "bson as another type");
        }
        return new Request(method, url, headers(random, Credential.AGENT, "application/bson"), mutate(random, valid),
                random.nextInt(8) == 0, false, "bson defect");
    }

    /** Valid BSON made invalid: truncated, a wrong length, an undefined type, a huge declared size, noise. */
    static byte[] mutate(Random random, byte[] valid) {
        byte[] out = valid.clone();
        switch (random.nextInt(7)) {
            case 0 -> out = Arrays.copyOf(valid, cutInsideADocument(random, valid));
            case 1 -> {
                int claimed = valid.length + 1 + random.nextInt(1000);
                writeInt(out, 0, random.nextBoolean() ? claimed : Math.max(0, valid.length - 1 - random.nextInt(4)));
            }
            case 2 -> out[4] = (byte) (0x14 + random.nextInt(0x7E - 0x14)); // no such BSON type
            case 3 -> writeInt(out, 0, pick(random, List.of(Integer.MAX_VALUE, -1, 0, 4, 5)));
            case 4 -> out[out.length - 1] = (byte) (1 + random.nextInt(255)); // no closing NUL
            case 5 -> {
                out = new byte[random.nextInt(2000)];
                random.nextBytes(out);
                if (out.length >= 4 && random.nextBoolean()) {
                    writeInt(out, 0, out.length); // plausible length, noise inside
                    out[4] = (byte) 0x7F;
                }
            }
            default -> {
                // a valid document followed by a truncated one
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                b.writeBytes(valid);
                b.writeBytes(Arrays.copyOf(valid, cutInsideADocument(random, valid)));
                out = b.toByteArray();
            }
        }
        return out;
    }

    /** A length to truncate {@code valid} (concatenated documents) to that ends inside a document, never between two. */
    private static int cutInsideADocument(Random random, byte[] valid) {
        java.util.Set<Integer> boundaries = new java.util.HashSet<>();
        for (int at = 0; at < valid.length; ) {
            boundaries.add(at);
            at += (valid[at] & 0xFF) | (valid[at + 1] & 0xFF) << 8 | (valid[at + 2] & 0xFF) << 16 | (valid[at + 3] & 0xFF) << 24;
        }
        int cut = 1 + random.nextInt(valid.length - 1);
        return boundaries.contains(cut) ? cut - 1 : cut; // documents are at least 5 bytes apart
    }

    private static byte[] bsonDefect(Random random) {
        return mutate(random, CaptureHarness.bytes(raw(new BsonDocument("x", new BsonInt32(random.nextInt())))));
    }

    private static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
        b[at + 2] = (byte) (v >>> 16);
        b[at + 3] = (byte) (v >>> 24);
    }

    // ---- headers

    private static Map<String, String> headers(Random random, Credential credential, String contentType) {
        Map<String, String> h = new java.util.LinkedHashMap<>();
        switch (credential) {
            case AGENT -> h.put("Authorization", "Bearer " + creds.getString("agentKey"));
            case ADMIN -> h.put("Authorization", "Bearer " + creds.getString("adminToken"));
            case GARBAGE -> h.put("Authorization", pick(random, List.of("Bearer ", "Bearer tma_x_y", "Basic YTpi",
                    "Bearer tmg_" + randomToken(random) + "_" + randomToken(random), "Bearer " + "x".repeat(4000))));
            default -> { }
        }
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        if (random.nextInt(6) == 0) {
            h.put(pick(random, List.of("X-Tidemark-Agent-Version", "Accept", "Accept-Encoding", "X-Forwarded-For", "Range")),
                    pick(random, List.of("", "*/*", "gzip, deflate", "bytes=0-5", "9".repeat(200))));
        }
        return h;
    }

    private static String randomType(Random random) {
        return pick(random, List.of("application/json", "application/bson", "text/plain", "", "application/json; charset=utf-8"));
    }

    private static String randomToken(Random random) {
        StringBuilder s = new StringBuilder();
        int n = 1 + random.nextInt(40);
        for (int i = 0; i < n; i++) {
            s.append("0123456789abcdefxyz_-".charAt(random.nextInt(21)));
        }
        return s.toString();
    }

    private static <T> T pick(Random random, List<T> items) {
        return items.get(random.nextInt(items.size()));
    }

    // ---- fixtures

    private static RawBsonDocument collectionEntry() {
        return raw(new BsonDocument("info", new BsonDocument("name", new BsonString("c")).append("type", new BsonString("collection")))
                .append("indexes", new org.bson.BsonArray()));
    }

    private static RawBsonDocument raw(BsonDocument d) {
        return RawBsonDocument.parse(d.toJson());
    }

    private static byte[] entries(OpTime... ts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (OpTime t : ts) {
            out.writeBytes(CaptureHarness.bytes(raw(new BsonDocument("ts", t.toBson()).append("op", new BsonString("n"))
                    .append("ns", new BsonString("")).append("o", new BsonDocument("msg", new BsonString("noop"))))));
        }
        return out.toByteArray();
    }

    /** The bound JsonBodies puts on every string. */
    private static final class JsonBodiesBound {
        static final int MAX = io.tidemark.shared.http.JsonBodies.MAX_STRING;
    }
}
