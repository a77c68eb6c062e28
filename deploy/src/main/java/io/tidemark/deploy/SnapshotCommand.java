package io.tidemark.deploy;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

@Command(name = "snapshot", description = "Take a snapshot of a job's head.",
        subcommands = {SnapshotCommand.Create.class})
final class SnapshotCommand {

    /** Between polls of a running snapshot: cheap for the API, and a snapshot takes seconds at least. */
    private static final long POLL_MILLIS = 1000;

    /** Starts a snapshot (forced: full, even if the head has not moved) and waits until it is complete. */
    static JsonObject take(AdminClient client, String job, boolean force, boolean quiet) {
        return take(client, job, force, true, quiet);
    }

    /**
     * Starts a snapshot; with {@code wait}, polls until it is complete. The answer is the final
     * state with {@code startStatus}, what the start said (running, unchanged or complete).
     */
    static JsonObject take(AdminClient client, String job, boolean force, boolean wait, boolean quiet) {
        String jobPath = "/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/snapshots";
        JsonObject started = client.post(jobPath, force ? new JsonObject().put("force", true) : new JsonObject());
        String id = started.getString("snapshotId");
        JsonObject result = started;
        if (wait && "running".equals(started.getString("status"))) {
            result = awaitCompletion(client, jobPath + "/" + URLEncoder.encode(id, StandardCharsets.UTF_8), id, quiet);
        }
        return result.copy().put("snapshotId", id).put("startStatus", started.getString("status"));
    }

    private static JsonObject awaitCompletion(AdminClient client, String path, String id, boolean quiet) {
        long start = System.nanoTime();
        while (true) {
            JsonObject entry = client.get(path);
            if (entry.getBoolean("complete", false)) {
                if (!quiet) {
                    System.err.println();
                }
                return entry.put("status", "complete");
            }
            if (entry.getBoolean("failed", false)) {
                throw new CliException("snapshot " + id + " failed: " + entry.getString("error"));
            }
            if (!quiet) {
                System.err.printf("\rsnapshot %s running for %ds", id, (System.nanoTime() - start) / 1_000_000_000L);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException("interrupted while waiting for snapshot " + id);
            }
        }
    }

    @Command(name = "create", description = "Snapshot the job's head now (nothing new is taken if the head has not "
            + "moved, unless --force).")
    static final class Create implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--job", required = true, description = "Job id or deployment name.")
        String job;

        @Option(names = "--wait", description = "Wait until the snapshot is complete and print its totals.")
        boolean wait;

        @Option(names = "--force", description = "Take a full snapshot even if the head has not moved: every "
                + "namespace is read again and no block is trusted because an earlier snapshot referenced it, so "
                + "blocks the store found damaged are written again.")
        boolean force;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject result = take(client, job, force, wait, admin.json);
                if (admin.json) {
                    System.out.println(result.encodePrettily());
                } else {
                    System.out.println(describe(result.getString("startStatus"), result.getString("snapshotId"), result));
                }
            }
        }
        private String describe(String startStatus, String id, JsonObject r) {
            if ("unchanged".equals(startStatus)) {
                return "the head has not moved since snapshot " + id + " (" + JobsCommand.ts(r.getJsonObject("ts"))
                        + "); no new snapshot taken";
            }
            if ("running".equals(r.getString("status"))) {
                return "snapshot " + id + " started; follow it with: tidemark snapshots list --job " + job;
            }
            return String.format("snapshot %s complete at %s: %,d documents, %s logical, %s new stored",
                    id, JobsCommand.ts(r.getJsonObject("ts")), r.getLong("documents", 0L),
                    SnapshotsCommand.bytes(r.getLong("logicalBytes")), SnapshotsCommand.bytes(r.getLong("storedBytes")));
        }
    }
}
