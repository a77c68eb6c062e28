package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

@Command(name = "jobs", description = "Backup jobs: one per backed-up deployment.",
        subcommands = {JobsCommand.ListJobs.class, JobsCommand.Resync.class})
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

    static String ts(JsonObject ts) {
        return ts == null ? "-" : ts.getLong("t") + ":" + ts.getLong("i");
    }
}
