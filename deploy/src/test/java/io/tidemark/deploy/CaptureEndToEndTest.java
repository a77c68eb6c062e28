package io.tidemark.deploy;

import com.mongodb.reactivestreams.client.MongoClient;
import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.DemoDataset;
import io.tidemark.deploy.demo.DemoWorkload;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.tidemark.deploy.CaptureHarness.assertExactlyOnceInOrder;
import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static io.tidemark.deploy.CaptureHarness.latestSourceTs;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The capture path end to end: a MongoDB-shaped embedded source → agent → HTTPS → Backup HTTP service
 * → durable sync and oplog stores, with the agent and the service stopped mid-stream.
 */
class CaptureEndToEndTest {

    private static final String DEPLOYMENT = "e2e-shop";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dataDir;

    private MongoShapedSource source;
    private MongoClient sourceClient;
    private DemoWorkload load;
    private TidemarkServer server;
    private Agent agent;

    @BeforeEach
    void source() {
        source = new MongoShapedSource();
        sourceClient = CaptureHarness.client(source.uri());
        DemoDataset data = new DemoDataset();
        data.load(source, 300, 100, 2_000, 500);
        load = new DemoWorkload(source, data, 300, 100);
    }

    @AfterEach
    void stop() {
        load.close();
        if (agent != null) {
            agent.stop();
        }
        if (server != null) {
            server.close();
        }
        sourceClient.close();
        source.close();
    }

    @Test
    void initialSyncWithWritesDuringTheCopyThenContinuousTailing() {
        server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()));
        load.start(200);
        agent = CaptureHarness.startAgent(server, source.uri(), DEPLOYMENT);

        await("the initial sync to complete", WAIT, () -> "ACTIVE".equals(job(server, DEPLOYMENT).getString("state")));
        JsonObject sync = job(server, DEPLOYMENT).getJsonObject("sync");
        assertTrue(sync.getLong("documents") >= 2_900, "every pre-existing document was copied: " + sync);
        assertTrue(sync.getLong("slices") > 4, "the copy was sliced: " + sync);

        long opsAtSyncEnd = load.operations();
        await("more writes to be captured after the sync", WAIT, () -> load.operations() > opsAtSyncEnd + 100);
        load.close();
        OpTime last = latestSourceTs(sourceClient);
        await("the stored oplog to reach the source's last entry", WAIT, () -> last.equals(agent.acked()));
        assertExactlyOnceInOrder(sourceClient, server, DEPLOYMENT);
        await("storedTs to be reported", WAIT, () -> last.equals(OpTime.fromJson(job(server, DEPLOYMENT).getJsonObject("storedTs"))));
    }

    @Test
    void agentKilledAndRestartedMidStreamLeavesEveryEntryExactlyOnce() {
        server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()));
        load.start(300);
        agent = CaptureHarness.startAgent(server, source.uri(), DEPLOYMENT);
        await("the job to be active", WAIT, () -> "ACTIVE".equals(job(server, DEPLOYMENT).getString("state")));

        for (int kill = 0; kill < 3; kill++) {
            CaptureHarness.awaitProgress(agent, agent.acked(), "progress before the kill");
            agent.stop();
            agent = CaptureHarness.startAgent(server, source.uri(), DEPLOYMENT);
        }
        CaptureHarness.awaitProgress(agent, null, "the restarted agent to resume");
        CaptureHarness.awaitProgress(agent, agent.acked(), "progress after the last restart");
        load.close();
        OpTime last = latestSourceTs(sourceClient);
        await("the stored oplog to reach the source's last entry", WAIT, () -> last.equals(agent.acked()));
        assertExactlyOnceInOrder(sourceClient, server, DEPLOYMENT);
    }

    @Test
    void serviceRestartedMidStreamLeavesEveryEntryExactlyOnce() {
        TidemarkConfig config = CaptureHarness.config(dataDir, Map.of());
        server = TidemarkServer.start(config);
        load.start(300);
        agent = CaptureHarness.startAgent(server, source.uri(), DEPLOYMENT);
        await("the job to be active", WAIT, () -> "ACTIVE".equals(job(server, DEPLOYMENT).getString("state")));

        for (int restart = 0; restart < 2; restart++) {
            CaptureHarness.awaitProgress(agent, agent.acked(), "progress before the restart");
            server.close();
            server = TidemarkServer.start(config);
        }
        CaptureHarness.awaitProgress(agent, agent.acked(), "progress after the restart");
        load.close();
        OpTime last = latestSourceTs(sourceClient);
        await("the stored oplog to reach the source's last entry", WAIT, () -> last.equals(agent.acked()));
        assertExactlyOnceInOrder(sourceClient, server, DEPLOYMENT);
    }
}
