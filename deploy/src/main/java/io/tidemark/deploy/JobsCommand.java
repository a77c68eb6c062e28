package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

@Command(name = "jobs", description = "Backup jobs: one per backed-up deployment.",
        subcommands = {JobsCommand.ListJobs.class, JobsCommand.Resync.class, JobsCommand.Move.class})
final class JobsCommand {

    @Command(name = "list", description = "Show every job with its state and positions.")
    static final class ListJobs implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonArray jobs = client.get("/jobs").getJsonArray("jobs");
                if (admin.json) {
                    System.out.println(jobs.encodePrettily());
                    return;
                }
                System.out.printf("%-28s %-24s %-16s %-18s %-18s %-6s %s%n", "ID", "NAME", "STATE", "STORED", "APPLIED", "LAG", "HEAD");
                for (Object o : jobs) {
                    JsonObject j = (JsonObject) o;
                    Long head = j.getLong("headSizeBytes");
                    System.out.printf("%-28s %-24s %-16s %-18s %-18s %-6s %s%n", j.getString("id"), j.getString("name"),
                            j.getString("state"), ts(j.getJsonObject("storedTs")), ts(j.getJsonObject("appliedTs")),
                            j.getValue("lagSeconds") == null ? "-" : j.getValue("lagSeconds") + "s",
                            head == null ? "-" : String.format("%.1f MB", head / 1e6));
                    if (j.getString("error") != null) {
                        System.out.println("    error: " + j.getString("error"));
                    }
                    String move = moveLine(j.getJsonObject("move"), j.getJsonObject("lastMove"));
                    if (move != null) {
                        System.out.println("    " + move);
                    }
                }
            }
        }
    }

    @Command(name = "resync", description = "Start a new initial sync of a job (after RESYNC_REQUIRED or FAILED).")
    static final class Resync implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--job", required = true, description = "Job id or deployment name.")
        String job;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject j = client.post("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/resync", new JsonObject());
                System.out.println(admin.json ? j.encodePrettily()
                        : "job " + j.getString("id") + " is " + j.getString("state") + "; its agent starts a new initial sync");
            }
        }
    }

    @Command(name = "move", description = "Move a job's head to another daemon: the daemon rebuilds it from the job's latest "
            + "snapshot and the oplog store, catches up, then takes the job over; the old head is removed. Snapshots of the "
            + "job wait meanwhile; restores keep working.")
    static final class Move implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--job", required = true, description = "Job id or deployment name.")
        String job;

        @Option(names = "--to", required = true, description = "Daemon id (see 'daemons list').")
        String to;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject j = client.post("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/move",
                        new JsonObject().put("to", to));
                System.out.println(admin.json ? j.encodePrettily() : "job " + j.getString("id") + ": " + moveLine(j.getJsonObject("move"), null)
                        + "\n  'tidemark jobs list' shows its progress");
            }
        }
    }

    /** A job's move under way with its progress, else how its last move ended; null without either. */
    static String moveLine(JsonObject move, JsonObject last) {
        if (move != null) {
            long snapshotBytes = move.getLong("snapshotBytes", 0L);
            long loaded = move.getLong("bytesLoaded", 0L);
            return "moving from daemon " + move.getString("from") + " to daemon " + move.getString("to") + ": " + move.getString("state")
                    + (io.tidemark.shared.daemons.JobMoves.SNAPSHOTTING.equals(move.getString("state"))
                            ? " (the owner takes the job's first snapshot, which the head is rebuilt from)" : "")
                    + (loaded == 0 ? "" : String.format(", %.1f MB loaded%s", loaded / 1e6,
                            snapshotBytes > 0 ? String.format(" of %.1f MB", snapshotBytes / 1e6) : ""))
                    + (move.getLong("entriesCaughtUp", 0L) == 0 ? "" : ", " + move.getLong("entriesCaughtUp") + " oplog entries caught up");
        }
        if (last == null) {
            return null;
        }
        String when = last.getValue("endedAt") == null ? "" : " at " + java.time.Instant.ofEpochMilli(last.getLong("endedAt"));
        return "failed".equals(last.getString("state"))
                ? "last move (to daemon " + last.getString("to") + ") failed" + when + ": " + last.getString("error")
                : "last move: from daemon " + last.getString("from") + " to daemon " + last.getString("to") + when
                        + (last.getValue("durationMs") == null ? "" : " in " + last.getLong("durationMs") / 1000 + " s");
    }

    static String ts(JsonObject ts) {
        return ts == null ? "-" : ts.getLong("t") + ":" + ts.getLong("i");
    }
}
