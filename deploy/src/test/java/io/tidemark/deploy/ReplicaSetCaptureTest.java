package io.tidemark.deploy;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.ClientSession;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoCollection;
import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.DriverDemoWriter;
import io.tidemark.shared.oplog.OpTime;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.MongoDBContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import reactor.core.publisher.Mono;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;

/**
 * Capture from a real MongoDB replica set (Testcontainers; skipped where Docker is absent): real
 * oplog shapes, a multi-document transaction, majority reads, tailable-await cursors.
 */
@Testcontainers(disabledWithoutDocker = true)
class ReplicaSetCaptureTest {

    @Container
    static final MongoDBContainer MONGO = new MongoDBContainer("mongo:7.0");

    @TempDir
    Path dataDir;

    @Test
    void capturesARealReplicaSetExactlyOnceIncludingTransactions() {
        String uri = MONGO.getReplicaSetUrl("admin");
        try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()))) {
            MongoClient client = CaptureHarness.client(uri);
            DriverDemoWriter writer = new DriverDemoWriter(uri);
            DemoDataset data = new DemoDataset();
            data.load(writer, 500, 100, 3_000, 1_000);
            DemoWorkload load = new DemoWorkload(writer, data, 500, 100);
            load.start(200);
            Agent agent = CaptureHarness.startAgent(server, uri, "real-rs");
            await("the initial sync", Duration.ofSeconds(120), () -> "ACTIVE".equals(job(server, "real-rs").getString("state")));

            MongoCollection<Document> orders = client.getDatabase("shop").getCollection("orders");
            MongoCollection<Document> customers = client.getDatabase("shop").getCollection("customers");
            try (ClientSession session = Mono.from(client.startSession()).block()) {
                session.startTransaction();
                Mono.from(orders.insertOne(session, new Document("_id", "txn-order").append("total", 10.0))).block();
                Mono.from(customers.updateOne(session, Filters.eq("_id", 1), Updates.inc("orders", 1))).block();
                Mono.from(session.commitTransaction()).block();
            }
            load.close();
            OpTime last = CaptureHarness.latestSourceTs(client);
            await("capture to reach the source's newest entry", Duration.ofSeconds(120),
                    () -> agent.acked() != null && agent.acked().compareTo(last) >= 0);
            agent.stop();
            CaptureHarness.assertExactlyOnceInOrderUpTo(client, server, "real-rs", agent.acked());
            writer.close();
            client.close();
        }
    }
}
