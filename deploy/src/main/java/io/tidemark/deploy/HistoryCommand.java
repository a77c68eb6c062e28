package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tidemark history}: every version of one document across the job's retained snapshots, and
 * every change of it inside the oplog window ({@code GET /jobs/:job/documents/history}).
 */
@Command(name = "history", description = "Every version of one document in the job's snapshots, and its changes in the oplog window.")
final class HistoryCommand implements Runnable {

    @Mixin
    AdminOptions admin = new AdminOptions();

    @Option(names = "--job", required = true, description = "Job id or deployment name.")
    String job;

    @Option(names = "--ns", required = true, description = "The document's namespace, db.collection.")
    String ns;

    @Option(names = "--id", required = true, description = "The document's _id as extended JSON: 42, '\"abc\"', '{\"$oid\": \"…\"}'.")
    String id;

    @Override
    public void run() {
        try (AdminClient client = admin.client()) {
            JsonObject h = client.get("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/documents/history?ns="
                    + URLEncoder.encode(ns, StandardCharsets.UTF_8) + "&id=" + URLEncoder.encode(id, StandardCharsets.UTF_8));
            if (admin.json) {
                System.out.println(h.encodePrettily());
                return;
            }
            System.out.println("document " + id + " of " + ns + ", job " + h.getString("job"));
            System.out.println("in snapshots (oldest first):");
            JsonArray versions = h.getJsonArray("versions");
            if (versions.isEmpty()) {
                System.out.println("  (no retained snapshots)");
            }
            for (Object o : versions) {
                JsonObject v = (JsonObject) o;
                JsonArray snaps = v.getJsonArray("snapshots");
                for (int i = 0; i < snaps.size(); i++) {
                    JsonObject s = snaps.getJsonObject(i);
                    System.out.printf("  %-24s %-16s %s%s%n", s.getString("snapshot"), s.getJsonObject("ts") == null ? ""
                            : JobsCommand.ts(s.getJsonObject("ts")), s.getString("time", ""), i == 0 ? "" : "  (same)");
                }
                System.out.println("      " + (v.containsKey("error") ? "ERROR: " + v.getString("error")
                        : v.getBoolean("exists") ? v.getJsonObject("document").encode() : "absent: " + v.getString("absent")));
            }
            JsonObject oplog = h.getJsonObject("oplog");
            if (oplog.containsKey("error")) {
                System.out.println("oplog: " + oplog.getString("error"));
                return;
            }
            JsonObject w = oplog.getJsonObject("window");
            System.out.println("changes in the oplog window " + JobsCommand.ts(w.getJsonObject("from")) + " (" + w.getString("fromTime")
                    + ") to " + JobsCommand.ts(w.getJsonObject("to")) + " (" + w.getString("toTime") + "):");
            JsonArray changes = oplog.getJsonArray("changes");
            if (changes.isEmpty()) {
                System.out.println("  (none)");
            }
            for (Object o : changes) {
                JsonObject c = (JsonObject) o;
                Object what = c.getValue("document", c.getValue("update", c.getValue("command",
                        c.containsKey("to") ? "to " + c.getString("to") : c.containsKey("from") ? "from " + c.getString("from") : "")));
                System.out.printf("  %-16s %-26s %-12s %s%s%n", c.getString("position"), c.getString("time", ""), c.getString("op"),
                        what instanceof JsonObject j ? j.encode() : what,
                        c.containsKey("transaction") ? "  (transaction " + c.getJsonObject("transaction").encode()
                                + (c.containsKey("writtenAt") ? ", written at " + JobsCommand.ts(c.getJsonObject("writtenAt")) : "") + ")"
                                : c.getBoolean("applyOps", false) ? "  (applyOps)" : "");
            }
        }
    }
}
