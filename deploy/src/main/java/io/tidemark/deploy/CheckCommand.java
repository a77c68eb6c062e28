package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "check", description = "Verify that every live snapshot of a job references existing blocks "
        + "(with --read-data, that every block also reads back and matches its hash). Tells missing blocks from "
        + "corrupt ones and names the snapshots (and point-in-time windows) each damages. Exits 1 on any problem.")
final class CheckCommand implements Callable<Integer> {

    private static final int TIMEOUT_SECONDS = 6 * 60 * 60;

    @Mixin
    AdminOptions admin = new AdminOptions();

    @Option(names = "--job", required = true, description = "Job id or deployment name.")
    String job;

    @Option(names = "--read-data", description = "Read, decompress and hash every referenced block.")
    boolean readData;

    @Override
    public Integer call() {
        try (AdminClient client = admin.client()) {
            JsonObject r = check(client, job, readData);
            if (admin.json) {
                System.out.println(r.encodePrettily());
            } else {
                print(r);
            }
            return r.getBoolean("ok") ? 0 : 1;
        }
    }

    static JsonObject check(AdminClient client, String job, boolean readData) {
        return client.get("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/check"
                + (readData ? "?readData=true" : ""), TIMEOUT_SECONDS);
    }

    /** The report as text: totals, each problem, then what is damaged and which restores it costs. */
    static void print(JsonObject r) {
        boolean readData = r.getBoolean("readData", false);
        System.out.printf("job %s: %d snapshot(s), %,d references to %,d blocks%s: %s%n", r.getString("job"),
                r.getInteger("snapshots"), r.getLong("references"), r.getLong("blocks"),
                readData ? ", " + SnapshotsCommand.bytes(r.getLong("bytesRead")) + " read and verified" : "",
                r.getBoolean("ok") ? "OK" : r.getLong("problemCount") + " problem(s)");
        for (Object o : r.getJsonArray("problems")) {
            JsonObject p = (JsonObject) o;
            System.out.printf("  snapshot %s%s%s: %s%n", p.getString("snapshot"),
                    p.getString("namespace") == null ? "" : " " + p.getString("namespace"),
                    p.getString("block") == null ? "" : " block " + p.getString("block"), p.getString("problem"));
        }
        if (r.getBoolean("ok")) {
            return;
        }
        System.out.printf("%,d block(s) missing, %,d corrupt%n", r.getLong("missingBlocks", 0L),
                r.getLong("corruptBlocks", 0L));
        for (Object o : r.getJsonArray("damagedSnapshots", new JsonArray())) {
            JsonObject d = (JsonObject) o;
            System.out.printf("  damaged snapshot %s: %d missing, %d corrupt block(s)%s; point-in-time restores "
                            + "from %s %s start from it%n", d.getString("snapshot"), d.getLong("missingBlocks"),
                    d.getLong("corruptBlocks"),
                    d.getLong("otherProblems") > 0 ? ", " + d.getLong("otherProblems") + " other problem(s)" : "",
                    d.getString("pitFrom"), d.getString("pitUntil") == null ? "on" : "until " + d.getString("pitUntil"));
        }
    }
}
