package io.tidemark.shared.blocks;

import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.store.Stores;
import org.bson.BsonDocument;
import reactor.core.scheduler.Scheduler;

/** Opens the block store the configuration asks for; restore, groomer and snapshotter share it. */
public final class BlockStores {

    /** The collection of the blockstore DB that {@link MongoBlockStore} keeps blocks in. */
    public static final String BLOCKS_COLLECTION = "blocks";

    private BlockStores() {
    }

    /**
     * @param blockingIo where file I/O runs for the packed and filesystem stores, and where the MongoDB store
     *     decompresses and verifies what it reads; never an event loop
     */
    public static BlockStore open(TidemarkConfig config, Stores stores, Scheduler blockingIo) {
        return switch (config.blockstoreType()) {
            case "packed" -> new PackBlockStore(config.blocksPath(), blockingIo);
            case "filesystem" -> new FilesystemBlockStore(config.blocksPath(), blockingIo);
            case "mongodb" -> new MongoBlockStore(
                    stores.blockstore().database().getCollection(BLOCKS_COLLECTION, BsonDocument.class), blockingIo);
            default -> throw new IllegalStateException("unknown block store type " + config.blockstoreType());
        };
    }
}
