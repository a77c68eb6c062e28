package io.tidemark.deploy;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Set;

/**
 * {@code tidemark restore}: asks the server for a restore of a snapshot or a point in time and
 * fetches its archive into a file that {@code mongorestore --archive=FILE [--gzip]} loads, or
 * has the server push it into a deployment.
 *
 * <p>The file is written as {@code FILE.part} and renamed only once the server has sent the
 * whole archive, so a {@code FILE} that exists is complete: a restore that fails halfway leaves
 * no file behind, and says why.
 */
@Command(name = "restore", description = "Restore a snapshot or a point in time as a mongodump archive (--out) or into a deployment (--to);"
        + " with --ns and --id, print one document as it was at --at / --at-ts (exit status 3 when it did not exist then).")
final class RestoreCommand implements java.util.concurrent.Callable<Integer> {

    /** Exit status of a one-document restore when the document did not exist at that moment (errors are 1). */
    static final int ABSENT = 3;

    /** How long to wait for the server to record why a broken download failed. */
    private static final long ERROR_WAIT_MILLIS = 5_000;
    private static final long POLL_MILLIS = 1_000;

    @Mixin
    AdminOptions admin = new AdminOptions();

    @Option(names = "--job", required = true, description = "Job id or deployment name.")
    String job;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Point point;

    static final class Point {
        @Option(names = "--snapshot", required = true, description = "A complete snapshot's id (tidemark snapshots list).")
        String snapshot;

        @Option(names = "--at", required = true, description = "A moment inside the oplog window, ISO-8601 (2024-05-01T12:00:00Z).")
        String at;

        @Option(names = "--at-ts", required = true, description = "An oplog timestamp T:I inside the window (inclusive).")
        String atTs;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Destination destination;

    @Option(names = "--ns", description = "With --id: the document's namespace, db.collection.")
    String ns;

    @Option(names = "--id", description = "Restore one document: its _id as extended JSON (42, '\"abc\"', '{\"$oid\": \"…\"}');"
            + " prints it in canonical extended JSON as it was at --at or --at-ts.")
    String id;

    static final class Destination {
        @Option(names = "--out", required = true, description = "Archive file to write (must not exist).")
        Path out;

        @Option(names = "--to", required = true, description = "mongodb:// URI of a deployment to restore into.")
        String to;
    }

    @Option(names = "--gzip", description = "Gzip the archive (then: mongorestore --archive=FILE --gzip).")
    boolean gzip;

    @Option(names = "--connect-timeout", defaultValue = "10", paramLabel = "SECONDS",
            description = "Give up a download whose connection is not made within this many seconds (default: ${DEFAULT-VALUE}).")
    int connectTimeoutSeconds;

    @Option(names = "--idle-timeout", defaultValue = "60", paramLabel = "SECONDS",
            description = "Give up a download when the server sends nothing for this many seconds (default: ${DEFAULT-VALUE}); "
                    + "a transfer that keeps moving is never cut.")
    int idleTimeoutSeconds;

    @Override
    public Integer call() {
        if (id != null || ns != null) {
            return document();
        }
        if (destination == null) {
            throw new CliException("give --out FILE or --to URI (or --ns and --id for one document)");
        }
        run();
        return 0;
    }

    /** One document at one moment: printed, or exit status {@link #ABSENT}. */
    private int document() {
        if (id == null || ns == null) {
            throw new CliException("a one-document restore needs both --ns and --id");
        }
        if (point.snapshot != null || destination != null || gzip) {
            throw new CliException("a one-document restore takes --at or --at-ts, and prints the document: no --snapshot, --out, --to or --gzip");
        }
        try (AdminClient client = admin.client()) {
            JsonObject got = client.get("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/documents/at?ns="
                    + URLEncoder.encode(ns, StandardCharsets.UTF_8) + "&id=" + URLEncoder.encode(id, StandardCharsets.UTF_8)
                    + "&at=" + URLEncoder.encode(point.at != null ? point.at : point.atTs, StandardCharsets.UTF_8));
            boolean exists = got.getBoolean("exists", false);
            if (admin.json) {
                System.out.println(got.encodePrettily());
            } else if (exists) {
                System.out.println(got.getJsonObject("document").encode());
            } else {
                System.err.println("document " + id + " of " + ns + " did not exist at " + JobsCommand.ts(got.getJsonObject("at"))
                        + " (" + got.getString("atTime") + ")");
            }
            return exists ? 0 : ABSENT;
        }
    }

    void run() {
        JsonObject body = new JsonObject().put("gzip", gzip);
        if (point.snapshot != null) {
            body.put("snapshot", point.snapshot);
        } else if (point.at != null) {
            body.put("at", point.at);
        } else {
            body.put("atTs", point.atTs);
        }
        if (destination.out != null && Files.exists(destination.out)) {
            throw new CliException(destination.out + " exists; remove it or choose another --out");
        }
        try (AdminClient client = admin.client()) {
            String path = "/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/restores";
            if (destination.to != null) {
                body.put("delivery", "push").put("target", destination.to);
                JsonObject created = client.post(path, body);
                print(awaitPush(client, created));
                return;
            }
            body.put("delivery", "download");
            JsonObject created = client.post(path, body);
            print(download(client, created, destination.out));
        }
    }

    private JsonObject download(AdminClient client, JsonObject created, Path out) {
        if (connectTimeoutSeconds < 1 || idleTimeoutSeconds < 1) {
            throw new CliException("--connect-timeout and --idle-timeout must be at least 1 second");
        }
        String id = created.getString("id");
        Path part = out.toAbsolutePath().resolveSibling(out.getFileName() + ".part");
        ProgressBar bar = System.console() != null && !admin.json
                ? new ProgressBar(System.err, created.getLong("logicalBytes"), gzip) : null;
        long start = System.nanoTime();
        AdminClient.Download got;
        // Ctrl-C or a kill: the JVM runs this, so an interrupted download leaves no .part behind.
        Thread cleanup = new Thread(() -> deleteQuietly(part), "restore-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            got = client.download(created.getString("downloadUrl"), part, new AdminClient.StreamTimeouts(
                    Duration.ofSeconds(connectTimeoutSeconds), Duration.ofSeconds(idleTimeoutSeconds)), n -> {
                if (bar != null) {
                    bar.update(n);
                }
            });
        } catch (CliException e) {
            deleteQuietly(part);
            if (bar != null) {
                bar.finish();
            }
            String why = serverError(client, id);
            throw new CliException("restore " + id + " failed: " + e.getMessage() + (why != null ? ": " + why : ""));
        } finally {
            removeHook(cleanup);
        }
        if (bar != null) {
            bar.finish();
        }
        moveIntoPlace(part, out);
        double seconds = (System.nanoTime() - start) / 1e9;
        JsonObject status = settledStatus(client, id);
        return status.put("file", out.toAbsolutePath().toString())
                .put("bytes", got.bytes())
                .put("seconds", Math.round(seconds * 100) / 100.0)
                .put("MBps", Math.round(got.bytes() / 1e6 / Math.max(seconds, 1e-9) * 10) / 10.0);
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it deletes the .part, which is what we want
        }
    }

    /** The error the server recorded for a restore whose download broke off; it may take a moment to land. */
    private static String serverError(AdminClient client, String id) {
        long deadline = System.currentTimeMillis() + ERROR_WAIT_MILLIS;
        while (true) {
            try {
                // bounded: a server that stalled the download may not answer this either
                JsonObject status = client.get("/restores/" + id, (int) (ERROR_WAIT_MILLIS / 1000));
                if (status.getString("error") != null) {
                    return status.getString("error");
                }
            } catch (CliException e) {
                return null;
            }
            if (System.currentTimeMillis() > deadline) {
                return null;
            }
            sleep();
        }
    }

    /**
     * The restore's status once the server has recorded the end of the transfer, which it does
     * just after sending the last byte.
     */
    private static JsonObject settledStatus(AdminClient client, String id) {
        long deadline = System.currentTimeMillis() + ERROR_WAIT_MILLIS;
        JsonObject status = client.get("/restores/" + id);
        while ("STREAMING".equals(status.getString("state")) && System.currentTimeMillis() < deadline) {
            sleep();
            status = client.get("/restores/" + id);
        }
        return status;
    }

    /** A push runs on the server; follow its state until it ends. */
    private JsonObject awaitPush(AdminClient client, JsonObject created) {
        String id = created.getString("id");
        Set<String> terminal = Set.of("DELIVERED", "FAILED", "EXPIRED");
        JsonObject status = created;
        while (!terminal.contains(status.getString("state"))) {
            if (!admin.json && System.console() != null) {
                System.err.printf("\rpushing restore %s: %s, %s", id, status.getString("state"),
                        SnapshotsCommand.bytes(status.getLong("bytes", 0L)));
            }
            sleep();
            status = client.get("/restores/" + id);
        }
        if (!"DELIVERED".equals(status.getString("state"))) {
            throw new CliException("restore " + id + " " + status.getString("state").toLowerCase()
                    + (status.getString("error") != null ? ": " + status.getString("error") : ""));
        }
        return status;
    }

    private void print(JsonObject result) {
        if (admin.json) {
            System.out.println(result.encodePrettily());
            return;
        }
        String what = result.getString("snapshotId") != null ? "snapshot " + result.getString("snapshotId")
                : "point in time " + JobsCommand.ts(result.getJsonObject("ts"));
        if (result.getString("file") == null) {
            System.out.printf("restored %s of job %s into %s%n", what, result.getString("job"), destination.to);
            return;
        }
        System.out.printf("restored %s of job %s (at %s) to %s: %s in %.1f s (%.1f MB/s)%n", what, result.getString("job"),
                JobsCommand.ts(result.getJsonObject("ts")), result.getString("file"),
                SnapshotsCommand.bytes(result.getLong("bytes")), result.getDouble("seconds"), result.getDouble("MBps"));
        System.out.printf("load it with: mongorestore --archive=%s%s [--uri ...]%n", result.getString("file"),
                gzip ? " --gzip" : "");
    }

    private static void moveIntoPlace(Path part, Path out) {
        try {
            try {
                Files.move(part, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(part, out);
            }
        } catch (IOException e) {
            throw new CliException("the archive is complete in " + part + " but cannot be renamed to " + out + ": " + e.getMessage());
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover .part is harmless: its name says it is incomplete
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MILLIS / 4);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    /**
     * One line on a terminal, redrawn at most five times a second: bytes, rate and, when the
     * size is known (an uncompressed archive is its documents plus a little framing), a bar and
     * an ETA. A gzipped archive's size is not known in advance, so it shows bytes and rate only.
     */
    static final class ProgressBar {
        private static final int WIDTH = 30;
        private final PrintStream out;
        private final Long total;
        private final long start = System.nanoTime();
        private long lastDraw;
        private long bytes;

        ProgressBar(PrintStream out, Long logicalBytes, boolean gzip) {
            this.out = out;
            this.total = gzip || logicalBytes == null || logicalBytes <= 0 ? null : logicalBytes;
        }

        synchronized void update(long n) {
            bytes = n;
            long now = System.nanoTime();
            if (now - lastDraw > 200_000_000L) {
                lastDraw = now;
                draw(now);
            }
        }

        synchronized void finish() {
            draw(System.nanoTime());
            out.println();
        }

        private void draw(long now) {
            double seconds = Math.max((now - start) / 1e9, 1e-3);
            double rate = bytes / seconds;
            StringBuilder line = new StringBuilder("\r");
            if (total != null) {
                double share = Math.min(1.0, (double) bytes / total);
                int filled = (int) Math.round(share * WIDTH);
                line.append('[').append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ")
                        .append(String.format("%3d%% ", Math.round(share * 100)));
            }
            line.append(String.format("%s  %.1f MB/s", SnapshotsCommand.bytes(bytes), rate / 1e6));
            if (total != null && rate > 0) {
                long eta = Math.max(0, Math.round((total - bytes) / rate));
                line.append(String.format("  ETA %d:%02d", eta / 60, eta % 60));
            }
            out.print(line.append("   "));
            out.flush();
        }
    }
}
