package io.tidemark.deploy;

import io.tidemark.agent.Agent;
import io.tidemark.deploy.demo.MongoShapedSource;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.oplog.OpTime;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static io.tidemark.deploy.CaptureHarness.await;
import static io.tidemark.deploy.CaptureHarness.job;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A long random mix of writes and DDL on a source whose oplog is shaped as MongoDB writes it,
 * captured through the real agent and service into a head, ending with {@code tidemark verify}
 * green; then the same with the server killed and restarted while the head applies.
 */
class RandomizedHeadTest {

    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dataDir;

    @Test
    void aLongRandomWorkloadEndsWithVerifyGreen() {
        run(42L, 1_500, false);
    }

    @Test
    void killingAndRestartingTheServerDuringApplicationStillEndsGreen() {
        run(7L, 1_200, true);
    }

    private void run(long seed, int operations, boolean restartServer) {
        TidemarkConfig config = CaptureHarness.config(dataDir, Map.of());
        TidemarkServer server = TidemarkServer.start(config);
        try (MongoShapedSource source = new MongoShapedSource()) {
            RandomWrites writes = new RandomWrites(source, new Random(seed));
            writes.seed(400);
            Agent agent = CaptureHarness.startAgent(server, source.uri(), "random");
            // Writes run while the initial sync copies: the head's catch-up must absorb them.
            for (int i = 0; i < operations / 3; i++) {
                writes.one();
            }
            TidemarkServer running = server;
            await("the initial sync", WAIT, () -> "ACTIVE".equals(job(running, "random").getString("state")));
            for (int i = 0; i < operations; i++) {
                writes.one();
                if (restartServer && i % 400 == 399) {
                    server.close();
                    server = TidemarkServer.start(config);
                }
            }
            OpTime last = source.latestTs();
            TidemarkServer finalServer = server;
            await("capture of every write", WAIT, () -> last.equals(agent.acked()));
            assertEquals(0, TidemarkCli.run("verify", "--job", "random", "--source", source.uri(),
                    "--data-dir", dataDir.toString(), "--timeout", "90"), "tidemark verify");
            assertEquals("ACTIVE", job(finalServer, "random").getString("state"));
            agent.stop();
            if (!restartServer) {
                // A change the oplog never saw (written straight to the server) must be caught.
                try (var direct = com.mongodb.client.MongoClients.create(source.uri())) {
                    direct.getDatabase("app").getCollection("users").insertOne(new Document("_id", "unlogged"));
                }
                assertEquals(1, TidemarkCli.run("verify", "--job", "random", "--source", source.uri(),
                        "--data-dir", dataDir.toString(), "--timeout", "30"), "verify must notice the difference");
            }
        } finally {
            server.close();
        }
    }

    /** Inserts, $set/$unset updates, replacements, deletes, and collection create/drop/rename. */
    static final class RandomWrites {
        private final MongoShapedSource source;
        private final Random random;
        private final List<String> collections = new ArrayList<>(List.of("app.users", "app.orders", "crm.accounts"));
        private int created;

        RandomWrites(MongoShapedSource source, Random random) {
            this.source = source;
            this.random = random;
        }

        void seed(int documents) {
            for (String ns : collections) {
                List<Document> docs = new ArrayList<>();
                for (int i = 0; i < documents; i++) {
                    docs.add(document());
                }
                source.insertMany(ns, docs);
            }
            source.createIndex("app.users", new Document("email", 1), new Document("unique", true));
        }

        void one() {
            String ns = collections.get(random.nextInt(collections.size()));
            int pick = random.nextInt(100);
            if (pick < 30) {
                source.insertMany(ns, List.of(document()));
            } else if (pick < 60) {
                source.idAt(ns, random.nextInt(50)).ifPresent(id -> {
                    Map<String, Object> set = changes();
                    source.update(ns, id, set, unsets(set.keySet()));
                });
            } else if (pick < 70) {
                source.idAt(ns, random.nextInt(50)).ifPresent(id -> source.replace(ns, id, document().append("_id", id)));
            } else if (pick < 82) {
                source.idAt(ns, random.nextInt(50)).ifPresent(id -> source.delete(ns, id));
            } else if (pick < 88) {
                String fresh = (random.nextBoolean() ? "app" : "crm") + ".scratch" + created++;
                source.createCollection(fresh);
                source.insertMany(fresh, List.of(document(), document()));
                collections.add(fresh);
            } else if (pick < 92 && collections.size() > 3) {
                String doomed = collections.remove(3 + random.nextInt(collections.size() - 3));
                source.dropCollection(doomed);
            } else if (pick < 97 && collections.size() > 3) {
                int from = 3 + random.nextInt(collections.size() - 3);
                String to = (random.nextBoolean() ? "app" : "archive") + ".renamed" + created++;
                source.renameCollection(collections.get(from), to, false);
                collections.set(from, to);
            } else if (collections.size() > 4) {
                // Rename onto an existing collection, which the rename replaces.
                int from = 3 + random.nextInt(collections.size() - 3);
                int onto = 3 + random.nextInt(collections.size() - 3);
                if (from != onto) {
                    source.renameCollection(collections.get(from), collections.get(onto), true);
                    collections.remove(from);
                }
            }
        }

        private Document document() {
            Document d = new Document("_id", new ObjectId())
                    .append("name", "n" + random.nextInt(100_000))
                    .append("email", "u" + random.nextLong() + "@example.com")
                    .append("score", random.nextDouble())
                    .append("tags", List.of("t" + random.nextInt(5), "t" + random.nextInt(5)))
                    .append("address", new Document("city", "c" + random.nextInt(20)).append("zip", random.nextInt(99_999)));
            if (random.nextBoolean()) {
                d.append("since", new Date(1_700_000_000_000L + random.nextInt(1_000_000)));
            }
            return d;
        }

        private Map<String, Object> changes() {
            Map<String, Object> set = new java.util.LinkedHashMap<>();
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                switch (random.nextInt(5)) {
                    case 0 -> set.put("name", "n" + random.nextInt(100_000));
                    case 1 -> set.put("score", random.nextDouble());
                    case 2 -> set.put("extra" + random.nextInt(4), random.nextInt(1000));
                    case 3 -> set.put("address", new Document("city", "c" + random.nextInt(20)));
                    default -> set.put("tags", List.of("t" + random.nextInt(9)));
                }
            }
            return set;
        }

        /** Sometimes a field to remove, never one the same update sets (MongoDB refuses that conflict). */
        private Set<String> unsets(Set<String> set) {
            String field = random.nextBoolean() ? "since" : "extra" + random.nextInt(4);
            return random.nextInt(4) == 0 && !set.contains(field) ? Set.of(field) : Set.of();
        }
    }
}
