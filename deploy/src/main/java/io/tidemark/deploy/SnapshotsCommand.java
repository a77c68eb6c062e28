package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

@Command(name = "snapshots", description = "A job's snapshots.",
        subcommands = {SnapshotsCommand.ListSnapshots.class})
final class SnapshotsCommand {

    @Command(name = "list", description = "Show the job's snapshots, newest first.")
    static final class ListSnapshots implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--job", required = true, description = "Job id or deployment name.")
        String job;

        @Option(names = "--all", description = "Include snapshots that are running or failed (not restorable).")
        boolean all;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonArray snapshots = client.get("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/snapshots"
                        + (all ? "?includeIncomplete=true" : "")).getJsonArray("snapshots");
                if (admin.json) {
                    System.out.println(snapshots.encodePrettily());
                    return;
                }
                System.out.printf("%-24s %-16s %-24s %12s %10s %10s %s%n",
                        "ID", "TS", "CREATED", "DOCUMENTS", "LOGICAL", "STORED", "COMPLETE");
                for (Object o : snapshots) {
                    JsonObject s = (JsonObject) o;
                    System.out.printf("%-24s %-16s %-24s %12s %10s %10s %s%n", s.getString("id"),
                            JobsCommand.ts(s.getJsonObject("ts")), s.getString("createdAt"),
                            s.getLong("documents") == null ? "-" : String.format("%,d", s.getLong("documents")),
                            bytes(s.getLong("logicalBytes")), bytes(s.getLong("storedBytes")),
                            s.getBoolean("damaged", false) ? "DAMAGED: " + s.getString("damage")
                                    : s.getBoolean("complete") ? "yes" : s.getBoolean("failed", false) ? "failed" : "no");
                }
            }
        }
    }

    /** Bytes for people: 1.5 GB, 320 MB, 12 KB. */
    static String bytes(Long n) {
        if (n == null) {
            return "-";
        }
        String[] units = {"B", "KB", "MB", "GB", "TB", "PB"};
        double v = n;
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? n + " B" : String.format("%.1f %s", v, units[u]);
    }
}
