package io.tidemark.deploy;

import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import io.tidemark.applier.SourceHashes;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.TreeSet;
import java.util.concurrent.Callable;

@Command(name = "verify", description = "Compare a job's head with the live source: per namespace, document count and "
        + "content hash. Exit status 0 only when every namespace matches.")
final class VerifyCommand implements Callable<Integer> {

    @Mixin
    AdminOptions admin = new AdminOptions();

    @Option(names = "--job", required = true, description = "Job id or deployment name.")
    String job;

    @Option(names = "--source", required = true, description = "MongoDB URI of the backed-up replica set.")
    String source;

    @Option(names = "--timeout", defaultValue = "300", description = "Seconds to wait for the head to catch up.")
    int timeout;

    @Option(names = "--attempts", defaultValue = "5", description = "Tries when the source keeps changing.")
    int attempts;

    @Override
    public Integer call() {
        try (AdminClient client = admin.client(); MongoClient mongo = MongoClients.create(source)) {
            for (int attempt = 1; attempt <= attempts; attempt++) {
                OpTime before = SourceHashes.latest(mongo);
                JsonObject head = client.get("/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8)
                        + "/head/hashes?atLeast=" + before + "&waitSeconds=" + Math.min(timeout, 600), timeout + 30);
                JsonObject sourceHashes = SourceHashes.compute(mongo);
                if (SourceHashes.changedAfter(mongo, before)) {
                    System.err.println("verify: the source changed during attempt " + attempt + "; trying again");
                    continue;
                }
                JsonObject report = compare(head, sourceHashes, before);
                print(report);
                return report.getBoolean("match") ? 0 : 1;
            }
            throw new CliException("the source kept changing during " + attempts + " attempts; verify when writes pause");
        }
    }

    private JsonObject compare(JsonObject head, JsonObject source, OpTime sourceTs) {
        JsonObject headNs = head.getJsonObject("namespaces");
        TreeSet<String> names = new TreeSet<>(headNs.fieldNames());
        names.addAll(source.fieldNames());
        JsonArray namespaces = new JsonArray();
        boolean all = true;
        JsonObject none = new JsonObject().put("count", 0L);
        for (String ns : names) {
            JsonObject h = headNs.getJsonObject(ns, none);
            JsonObject s = source.getJsonObject(ns, none);
            boolean match = h.getLong("count").equals(s.getLong("count"))
                    && (h.getLong("count") == 0 || h.getString("hash").equals(s.getString("hash")));
            all &= match;
            namespaces.add(new JsonObject().put("ns", ns).put("match", match).put("head", h).put("source", s));
        }
        return new JsonObject().put("job", job).put("match", all).put("sourceTs", sourceTs.toJson())
                .put("appliedTs", head.getJsonObject("appliedTs")).put("namespaces", namespaces);
    }

    private void print(JsonObject report) {
        if (admin.json) {
            System.out.println(report.encodePrettily());
            return;
        }
        for (Object o : report.getJsonArray("namespaces")) {
            JsonObject n = (JsonObject) o;
            System.out.printf("%-8s %-48s head %8d  source %8d%n", n.getBoolean("match") ? "ok" : "MISMATCH", n.getString("ns"),
                    n.getJsonObject("head").getLong("count"), n.getJsonObject("source").getLong("count"));
        }
        System.out.println(report.getBoolean("match") ? "head matches the source at " + OpTime.fromJson(report.getJsonObject("sourceTs"))
                : "head DOES NOT match the source");
    }
}
