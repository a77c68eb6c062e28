package io.tidemark.deploy;

import io.tidemark.agent.IngestClient;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.util.VertxFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Full-size bodies (a 4 MiB oplog batch, a 10 MiB slice) are validated, hashed and compressed off
 * the ingest event loop and stored exactly. Zstd asserts it never runs on an event loop and the
 * suite fails a test during which one is blocked, so this fails if either moves back onto it.
 */
class IngestCodecTest {

    private static final OpTime START = new OpTime(1_700_000_000L, 1);

    @TempDir
    Path dataDir;

    @Test
    void fullSizeBatchesAndSlicesAreStoredExactlyAndTheEventLoopStaysFree() throws Exception {
        Vertx vertx = VertxFactory.create();
        try (TidemarkServer server = TidemarkServer.start(CaptureHarness.config(dataDir, Map.of()))) {
            JsonObject creds = CredentialsFile.read(server.config().dataPath());
            IngestClient agent = new IngestClient(vertx, server.ingestUrl(), creds.getString("agentKey"),
                    creds.getString("certificateSha256"), null);
            String job = CaptureHarness.join(agent.register("codec-test", "host")).getString("job");
            long gen = CaptureHarness.join(agent.beginSync(job, START, START));
            Random random = new Random(42);

            byte[] batch = documents(4 * 1024 * 1024, i -> new BsonDocument("ts", new OpTime(START.seconds(), START.increment() + 1 + i).toBson())
                    .append("op", new BsonString("i")).append("ns", new BsonString("db.c"))
                    .append("o", new BsonDocument("_id", new BsonInt32(i)).append("pad", new BsonBinary(bytes(random, 1000)))));
            OpTime last = OpTime.of(lastDocument(batch).getTimestamp("ts"));
            assertEquals(last, CaptureHarness.join(agent.sendOplog(job, START, Buffer.buffer(batch))));
            ByteArrayOutputStream stored = new ByteArrayOutputStream();
            CaptureHarness.storedEntries(server.stores().oplog(), job, START).forEach(stored::writeBytes);
            assertArrayEquals(batch, stored.toByteArray());

            byte[] slice = documents(10 * 1024 * 1024, i -> new BsonDocument("_id", new BsonInt32(i))
                    .append("pad", new BsonBinary(bytes(random, 2000))));
            CaptureHarness.join(agent.putSlice(job, gen, "db.c", 0, Buffer.buffer(slice)));
            ByteArrayOutputStream storedSlice = new ByteArrayOutputStream();
            server.stores().sync().slices(job, gen, "db.c").toIterable().forEach(storedSlice::writeBytes);
            assertArrayEquals(slice, storedSlice.toByteArray());
            agent.close();
        } finally {
            vertx.close().await();
        }
    }

    /** Concatenated BSON documents made by {@code doc}, up to {@code bytes}. */
    private static byte[] documents(int bytes, IntFunction<BsonDocument> doc) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; ; i++) {
            byte[] next = CaptureHarness.bytes(new RawBsonDocument(doc.apply(i), new BsonDocumentCodec()));
            if (out.size() + next.length > bytes) {
                return out.toByteArray();
            }
            out.writeBytes(next);
        }
    }

    private static RawBsonDocument lastDocument(byte[] documents) {
        var frames = io.tidemark.shared.bson.BsonFrames.split(documents);
        var f = frames.get(frames.size() - 1);
        return new RawBsonDocument(documents, f.offset(), f.length());
    }

    /** Half random, half repeated: compressible like real documents, but not trivially. */
    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        java.util.Arrays.fill(b, n / 2, n, (byte) 'x');
        return b;
    }
}
