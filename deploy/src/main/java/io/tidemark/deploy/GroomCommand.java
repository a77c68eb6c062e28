package io.tidemark.deploy;

import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "groom", description = "Groom a job now: expire snapshots its policy no longer keeps, trim its oplog "
        + "to the point-in-time window, and delete blocks no live snapshot references.")
final class GroomCommand implements Runnable {

    @Mixin
    AdminOptions admin = new AdminOptions();

    @Option(names = "--job", required = true, description = "Job id or deployment name.")
    String job;

    /** A sweep walks every live snapshot's references and lists the block store: minutes on a large one. */
    private static final int GROOM_TIMEOUT_SECONDS = 3600;

    @Option(names = "--dry-run", description = "Report what would go, and change nothing.")
    boolean dryRun;

    @Override
    public void run() {
        try (AdminClient client = admin.client()) {
            JsonObject r = client.post("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/groom",
                    new JsonObject().put("dryRun", dryRun), GROOM_TIMEOUT_SECONDS);
            if (admin.json) {
                System.out.println(r.encodePrettily());
                return;
            }
            String verb = dryRun ? "would " : "";
            System.out.printf("job %s%s: %s%s %d snapshot(s), kept %d%n", r.getString("job"), dryRun ? " (dry run)" : "",
                    verb, dryRun ? "expire" : "expired", r.getInteger("expired"), r.getInteger("kept"));
            JsonObject cut = r.getJsonObject("oplogCut");
            System.out.printf("oplog: %s%s %d batch(es) (%s)%s%n", verb, dryRun ? "trim" : "trimmed",
                    r.getLong("oplogBatchesTrimmed"), SnapshotsCommand.bytes(r.getLong("oplogBytesTrimmed")),
                    cut == null ? ", nothing trimmable" : " through " + JobsCommand.ts(cut));
            System.out.printf("blocks: %d scanned, %d live, %s%s %d (%s reclaimed)%n", r.getLong("blocksScanned"),
                    r.getLong("blocksLive"), verb, dryRun ? "delete" : "deleted", r.getLong("blocksDeleted"),
                    SnapshotsCommand.bytes(r.getLong("reclaimedBytes")));
        }
    }
}
