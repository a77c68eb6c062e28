package io.tidemark.deploy;

import com.mongodb.reactivestreams.client.MongoClient;
import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the agent's resume point has left the source's oplog, the job goes to RESYNC_REQUIRED and
 * says why, instead of skipping what was lost; an operator's resync brings it back.
 */
class ResyncRequiredTest {

    @TempDir
    Path dataDir;

    @Test
    void aResumePointThatLeftTheOplogRequiresAResyncAndAnOperatorResyncRecovers() throws Exception {
        try (MongoShapedSource source = new MongoShapedSource();
             TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()))) {
            MongoClient client = CaptureHarness.client(source.uri());
            DemoDataset data = new DemoDataset();
            data.load(source, 100, 50, 200, 50);
            DemoWorkload load = new DemoWorkload(source, data, 100, 50);
            Agent agent = CaptureHarness.startAgent(server, source.uri(), "rolled-over");
            await("the job to be active", Duration.ofSeconds(60), () -> "ACTIVE".equals(job(server, "rolled-over").getString("state")));
            for (int i = 0; i < 20; i++) {
                load.one().block();
            }
            OpTime latest = CaptureHarness.latestSourceTs(client);
            await("capture to catch up", Duration.ofSeconds(60), () -> latest.equals(agent.acked()));
            agent.stop();

            // The agent comes back to a rebuilt source whose oplog never held its resume point, as
            // after a long outage on a busy replica set whose capped oplog rolled over.
            load.close();
            client.close();
            source.close();
            // Its timestamps come from the wall clock, so start it in a later second, as the oplog of a
            // source rebuilt after an outage would be: it must not reuse the resume point's timestamp.
            await("a new second", Duration.ofSeconds(2), () -> System.currentTimeMillis() / 1000 > latest.seconds());
            MongoShapedSource rebuilt = new MongoShapedSource();
            client = CaptureHarness.client(rebuilt.uri());
            data = new DemoDataset();
            data.load(rebuilt, 100, 50, 200, 50);
            load = new DemoWorkload(rebuilt, data, 100, 50);

            Agent resumed = CaptureHarness.startAgent(server, rebuilt.uri(), "rolled-over");
            await("RESYNC_REQUIRED", Duration.ofSeconds(60), () -> "RESYNC_REQUIRED".equals(job(server, "rolled-over").getString("state")));
            JsonObject failed = job(server, "rolled-over");
            assertTrue(failed.getString("error").contains(latest.toString()), failed.getString("error"));
            OpTime storedWhenLost = OpTime.fromJson(failed.getJsonObject("storedTs"));
            assertEquals(latest, storedWhenLost, "nothing was stored past the lost position");

            assertEquals(0, TidemarkCli.run("jobs", "resync", "--job", "rolled-over", "--data-dir", dataDir.toString()));
            await("a new initial sync to complete", Duration.ofSeconds(60), () -> {
                JsonObject j = job(server, "rolled-over");
                return "ACTIVE".equals(j.getString("state")) && j.getJsonObject("sync").getLong("generation") == 2;
            });
            load.one().block();
            OpTime after = CaptureHarness.latestSourceTs(client);
            await("capture to resume", Duration.ofSeconds(60), () -> after.equals(resumed.acked()));
            CaptureHarness.assertExactlyOnceInOrder(client, server, "rolled-over");
            resumed.stop();
            load.close();
            client.close();
            rebuilt.close();
        }
    }

    @Test
    void aResumePointWhoseEntryChangedIsARollbackNotAPlaceToContinue() {
        try (MongoShapedSource original = new MongoShapedSource();
             TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()))) {
            original.insertMany("app.items", java.util.List.of(new org.bson.Document("_id", 1), new org.bson.Document("_id", 2)));
            Agent agent = CaptureHarness.startAgent(server, original.uri(), "rolled-back");
            await("the job to be active", Duration.ofSeconds(60), () -> "ACTIVE".equals(job(server, "rolled-back").getString("state")));
            original.insertMany("app.items", java.util.List.of(new org.bson.Document("_id", 3)));
            OpTime latest = original.latestTs();
            await("capture to catch up", Duration.ofSeconds(60), () -> latest.equals(agent.acked()));
            agent.stop();

            // The same oplog, except that the entry at the resume point is another write with the
            // same timestamp: what a member that rolled back and took other writes looks like.
            de.bwaldvogel.mongo.MongoServer rolledBack = new de.bwaldvogel.mongo.MongoServer(new de.bwaldvogel.mongo.backend.memory.MemoryBackend());
            String uri = "mongodb://127.0.0.1:" + rolledBack.bind().getPort();
            try (var from = com.mongodb.client.MongoClients.create(original.uri()); var to = com.mongodb.client.MongoClients.create(uri)) {
                var oplog = to.getDatabase("local").getCollection("oplog.rs", org.bson.RawBsonDocument.class);
                for (org.bson.RawBsonDocument e : from.getDatabase("local").getCollection("oplog.rs", org.bson.RawBsonDocument.class).find()) {
                    if (OpTime.of(e.getTimestamp("ts")).equals(latest)) {
                        org.bson.BsonDocument other = org.bson.BsonDocument.parse(e.toJson());
                        other.put("o", new org.bson.BsonDocument("_id", new org.bson.BsonInt32(99)));
                        oplog.insertOne(new org.bson.RawBsonDocument(other, new org.bson.codecs.BsonDocumentCodec()));
                    } else {
                        oplog.insertOne(e);
                    }
                }
            }
            Agent resumed = CaptureHarness.startAgent(server, uri, "rolled-back");
            await("RESYNC_REQUIRED", Duration.ofSeconds(60), () -> "RESYNC_REQUIRED".equals(job(server, "rolled-back").getString("state")));
            String error = job(server, "rolled-back").getString("error");
            assertTrue(error.contains(latest.toString()) && error.contains("rolled back"), error);
            resumed.stop();
            rolledBack.shutdownNow();
        }
    }
}
