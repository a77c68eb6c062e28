package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Re-creates damaged blocks from the head. Blocks are named by their content, so a block written
 * again from the head repairs every snapshot that references it without touching a manifest:
 * reading every block (check --read-data) makes the store hold the damaged ones as corrupt, and
 * a full snapshot writes again each one whose content the head still holds. A snapshot whose
 * damaged blocks hold data the head no longer has (or whose manifest is damaged) stays damaged,
 * is named and is marked damaged in the catalog: restores refuse it with the reason, and new
 * snapshots stop deduplicating against it.
 */
@Command(name = "repair", description = "Re-create a job's damaged blocks from its head: check --read-data, a full "
        + "snapshot (snapshot create --force) that writes again every damaged block whose content the head still "
        + "holds, and a second check. Names the snapshots that stay damaged and exits 1 if there are any.")
final class RepairCommand implements Callable<Integer> {

    @Mixin
    AdminOptions admin = new AdminOptions();

    @Option(names = "--job", required = true, description = "Job id or deployment name.")
    String job;

    @Override
    public Integer call() {
        try (AdminClient client = admin.client()) {
            JsonObject before = CheckCommand.check(client, job, true);
            if (before.getBoolean("ok")) {
                return done(new JsonObject().put("job", job).put("repaired", new JsonArray())
                        .put("damaged", new JsonArray()).put("before", before), "nothing to repair: every block of every "
                        + "snapshot of " + job + " reads back and matches its hash", 0);
            }
            if (!admin.json) {
                CheckCommand.print(before);
                System.out.println("taking a full snapshot of the head to write the damaged blocks again");
            }
            JsonObject snapshot = SnapshotCommand.take(client, job, true, admin.json);
            JsonObject after = CheckCommand.check(client, job, true);
            JsonArray damagedAfter = snapshotIds(after);
            JsonArray repaired = new JsonArray();
            snapshotIds(before).forEach(id -> {
                if (!damagedAfter.contains(id)) {
                    repaired.add(id);
                }
            });
            markDamaged(client, after);
            JsonObject result = new JsonObject().put("job", job).put("snapshot", snapshot.getString("snapshotId"))
                    .put("repaired", repaired).put("damaged", damagedAfter).put("before", before).put("after", after);
            if (!admin.json) {
                System.out.printf("full snapshot %s taken; %d damaged snapshot(s) repaired%s%n",
                        snapshot.getString("snapshotId"), repaired.size(), repaired.isEmpty() ? "" : ": " + repaired.encode());
                if (!after.getBoolean("ok")) {
                    System.out.println("still damaged (the head no longer holds what they held), now marked damaged: "
                            + "restores refuse them and new snapshots no longer build on them:");
                    CheckCommand.print(after);
                }
            }
            return done(result, null, after.getBoolean("ok") ? 0 : 1);
        }
    }

    /** Marks each snapshot the check after the repair still finds damaged, saying what is wrong with it. */
    private void markDamaged(AdminClient client, JsonObject after) {
        for (Object o : after.getJsonArray("damagedSnapshots", new JsonArray())) {
            JsonObject d = (JsonObject) o;
            java.util.List<String> what = new java.util.ArrayList<>();
            if (d.getLong("missingBlocks", 0L) > 0) {
                what.add(d.getLong("missingBlocks") + " missing block(s)");
            }
            if (d.getLong("corruptBlocks", 0L) > 0) {
                what.add(d.getLong("corruptBlocks") + " corrupt block(s)");
            }
            if (d.getLong("otherProblems", 0L) > 0) {
                what.add(d.getLong("otherProblems") + " manifest problem(s)");
            }
            String reason = String.join(", ", what) + "; found by repair on " + java.time.Instant.now();
            client.post("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/snapshots/"
                    + URLEncoder.encode(d.getString("snapshot"), StandardCharsets.UTF_8) + "/damaged",
                    new JsonObject().put("reason", reason));
        }
    }

    private int done(JsonObject result, String text, int exit) {
        if (admin.json) {
            System.out.println(result.encodePrettily());
        } else if (text != null) {
            System.out.println(text);
        }
        return exit;
    }

    private static JsonArray snapshotIds(JsonObject report) {
        JsonArray ids = new JsonArray();
        report.getJsonArray("damagedSnapshots", new JsonArray())
                .forEach(o -> ids.add(((JsonObject) o).getString("snapshot")));
        return ids;
    }
}
