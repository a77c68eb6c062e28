package io.tidemark.snapshotter.bench;

import io.tidemark.shared.blocks.MongoBlockStore;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.tidemark.snapshotter.blocks.BlockWriter;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bson.BsonDocument;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The block pipeline into {@link MongoBlockStore} on an in-process mongo-java-server
 * (memory backend): the embedded option's ceiling, for comparison with the file store.
 * Not a test; run with {@code java -cp <test classpath> ...MongoBlockStoreBench [bytes]}.
 */
public final class MongoBlockStoreBench {

    private MongoBlockStoreBench() {
    }

    public static void main(String[] args) {
        long bytes = BlockPipelineBench.parseSize(args.length > 0 ? args[0] : "256m");
        int cores = Runtime.getRuntime().availableProcessors();
        Scheduler cpu = Schedulers.newParallel("bench-cpu", cores);
        MongoServer server = new MongoServer(new MemoryBackend());
        InetSocketAddress addr = server.bind();
        try (MongoClient client = MongoClients.create("mongodb://" + addr.getHostString() + ":" + addr.getPort())) {
            MongoBlockStore store = new MongoBlockStore(
                    client.getDatabase("blockstore").getCollection("blocks", BsonDocument.class), cpu);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("store", "mongo-java-server memory backend");
            result.putAll(BlockPipelineBench.passes(store, cpu, cpu, BlockWriter.Options.defaults(), bytes));
            result.put("peakRssBytes", io.tidemark.shared.util.ProcessMemory.peakRssBytes());
            System.out.println(result);
        } finally {
            server.shutdownNow();
            cpu.dispose();
        }
    }
}
