package io.tidemark.deploy.bench;

import io.tidemark.applier.Head;
import io.tidemark.restore.DownloadApi;
import io.tidemark.restore.RestoreService;
import io.tidemark.restore.RestoresApi;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.blocks.BlockStores;
import io.tidemark.shared.blocks.PackBlockStore;
import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.http.ErrorResponses;
import io.tidemark.shared.security.PinnedCertificateTrust;
import io.tidemark.shared.security.SelfSignedTls;
import io.tidemark.shared.security.TlsEngines;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.Stores;
import io.tidemark.shared.util.Directories;
import io.tidemark.shared.util.ProcessMemory;
import io.tidemark.snapshotter.SnapshotSummary;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.bench.BlockPipelineBench;
import io.tidemark.snapshotter.bench.SyntheticDocuments;
import io.tidemark.snapshotter.bench.SyntheticHead;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code tidemark bench restore}: a snapshot restore streamed over HTTPS loopback, through the
 * real restore service and download route on a Vert.x HTTPS server, to a client that discards
 * the bytes; with and without gzip.
 *
 * <p>Setup (not timed): a synthetic head of {@code logicalBytes} (the snapshot benchmark's
 * documents), snapshotted with the server's default chunking and compression into the packed
 * block store (the embedded server's default), the manifest and catalog in the embedded store; then one untimed restore warms
 * the JIT. Each timed run creates a restore and downloads its link from request to last byte.
 * MB/s are logical (uncompressed BSON) bytes per second, as for snapshots; {@code wireMBps}
 * counts the bytes that crossed the socket.
 */
public final class RestoreBench {

    private RestoreBench() {
    }

    public static JsonObject run(Path workDir, long logicalBytes, int runs) {
        int cores = Runtime.getRuntime().availableProcessors();
        Path root;
        try {
            root = Files.createTempDirectory(Files.createDirectories(workDir), "restore-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        TidemarkConfig config = ConfigLoader.load(null, Map.of("TIDEMARK_DATADIR", root.toString(),
                "TIDEMARK_BLOCKSTORE_TYPE", "packed"));
        Vertx server = VertxFactory.create(new VertxOptions().setPreferNativeTransport(false));
        Vertx client = VertxFactory.create(new VertxOptions().setPreferNativeTransport(false));
        Scheduler cpu = Schedulers.newParallel("bench-restore-cpu", cores, true);
        Scheduler io = Schedulers.newBoundedElastic(4 * cores, 10_000, "bench-restore-io", 60, true);
        Stores stores = await(Stores.open(server, config));
        BlockStore blocks = null;
        try {
            JsonObject result = new JsonObject().put("cores", cores).put("store", config.blockstoreType());
            blocks = BlockStores.open(config, stores, io);
            String job = await(stores.jobs().register("bench-restore")).getString("_id");
            SnapshotSummary snapshot = snapshot(root, config, stores, blocks, job, logicalBytes, cpu, io, result);

            RestoreService restores = new RestoreService(stores, blocks, null, Duration.ofHours(1), Clock.systemUTC(), cpu);
            await(restores.createIndexes());
            SelfSignedTls.Material tls = SelfSignedTls.ensure(root.resolve("tls"));
            HttpServer front = await(server.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0)
                            .setSsl(true).setSslEngineOptions(TlsEngines.preferred()).setKeyCertOptions(new PemKeyCertOptions()
                                    .setCertPath(tls.certFile().toString()).setKeyPath(tls.keyFile().toString())))
                    .requestHandler(router(server, restores)).listen());
            HttpClient http = client.createHttpClient(new HttpClientOptions().setSsl(true).setSslEngineOptions(TlsEngines.preferred()).setVerifyHost(false)
                    .setTrustOptions(TrustOptions.wrap(new PinnedCertificateTrust(tls.sha256()))));
            String base = "https://127.0.0.1:" + front.actualPort();

            restore(http, base, job, snapshot.snapshotId(), false); // JIT warm-up
            for (boolean gzip : new boolean[] {false, true}) {
                List<double[]> measured = new ArrayList<>(); // seconds, wire bytes
                for (int i = 0; i < runs; i++) {
                    measured.add(restore(http, base, job, snapshot.snapshotId(), gzip));
                }
                measured.sort(Comparator.comparingDouble(m -> m[0]));
                double[] median = measured.get(measured.size() / 2);
                JsonArray all = new JsonArray();
                measured.forEach(m -> all.add(round(snapshot.logicalBytes() / 1e6 / m[0])));
                String key = gzip ? "gzip" : "plain";
                result.put(key, new JsonObject()
                        .put("MBps", round(snapshot.logicalBytes() / 1e6 / median[0]))
                        .put("wireMBps", round(median[1] / 1e6 / median[0]))
                        .put("seconds", round(median[0]))
                        .put("artifactBytes", (long) median[1])
                        .put("runsMBps", all));
            }
            result.put("runs", runs);
            result.put("peakRssBytes", ProcessMemory.peakRssBytes());
            return result;
        } finally {
            if (blocks instanceof PackBlockStore packed) {
                packed.close();
            }
            stores.close();
            await(client.close());
            await(server.close());
            cpu.dispose();
            io.dispose();
            Directories.deleteTree(root);
        }
    }

    private static SnapshotSummary snapshot(Path root, TidemarkConfig config, Stores stores, BlockStore blocks, String job,
            long logicalBytes, Scheduler cpu, Scheduler io, JsonObject result) {
        try (Head head = Head.open(root.resolve("head"))) {
            long t0 = System.nanoTime();
            long documents = SyntheticHead.load(head, new SyntheticDocuments(20240917L), logicalBytes);
            SnapshotTaker taker = new SnapshotTaker(blocks, new ManifestStore(stores.blockstore().database()),
                    new SnapshotCatalog(stores.metadata()), cpu, io, BlockWriter.Options.of(config.snapshots()));
            SnapshotSummary summary = taker.take(job, head).block(Duration.ofHours(2));
            result.put("documents", documents)
                    .put("logicalBytes", summary.logicalBytes())
                    .put("storedBytes", summary.storedBytes())
                    .put("setupSeconds", round((System.nanoTime() - t0) / 1e9));
            return summary;
        }
    }

    /** The routes as the front end mounts them (without the admin token check). */
    private static Router router(Vertx vertx, RestoreService restores) {
        Router root = Router.router(vertx);
        root.route("/*").subRouter(DownloadApi.router(vertx, restores));
        Router api = Router.router(vertx);
        api.route().handler(BodyHandler.create(false).setBodyLimit(1 << 20));
        api.route("/*").subRouter(RestoresApi.router(vertx, restores));
        api.route().failureHandler(ErrorResponses::handle);
        root.route("/api/v1/*").subRouter(api);
        return root;
    }

    /** Creates a restore and downloads it, discarding the bytes; returns {seconds, bytes}. */
    private static double[] restore(HttpClient http, String base, String job, String snapshotId, boolean gzip) {
        long start = System.nanoTime();
        Future<double[]> done = http.request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI(base + "/api/v1/jobs/" + job + "/restores").putHeader("Content-Type", "application/json"))
                .compose(req -> req.send(new JsonObject().put("snapshot", snapshotId).put("gzip", gzip).toBuffer()))
                .compose(resp -> resp.body().map(b -> {
                    if (resp.statusCode() != 201) {
                        throw new IllegalStateException("creating the restore: " + b);
                    }
                    return b.toJsonObject().getString("downloadUrl");
                }))
                .compose(link -> http.request(new RequestOptions().setMethod(HttpMethod.GET).setAbsoluteURI(base + link)))
                .compose(req -> req.send())
                .compose(resp -> {
                    Promise<double[]> got = Promise.promise();
                    long[] bytes = new long[1];
                    resp.handler(b -> bytes[0] += b.length());
                    resp.exceptionHandler(got::tryFail);
                    resp.endHandler(v -> got.tryComplete(new double[] {(System.nanoTime() - start) / 1e9, bytes[0]}));
                    return got.future();
                });
        return await(done);
    }

    /** {@code RestoreBench [workDir] [logicalBytes, e.g. 1g] [runs]}; prints the result. */
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "target/bench");
        long bytes = BlockPipelineBench.parseSize(args.length > 1 ? args[1] : "1g");
        System.out.println(run(dir, bytes, args.length > 2 ? Integer.parseInt(args[2]) : 3).encodePrettily());
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static <T> T await(Future<T> f) {
        try {
            return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e.getCause() != null ? e.getCause() : e);
        }
    }
}
