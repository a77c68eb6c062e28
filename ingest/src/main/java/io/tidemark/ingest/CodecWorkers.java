package io.tidemark.ingest;

import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

/**
 * The pool that validates, hashes and compresses request bodies (4 MiB oplog batches, 10 MiB
 * slices), so that the single ingest event loop only moves bytes and chains futures. Its own
 * pool, sized to the cores because the work is CPU-bound, so a busy restore or groom on the
 * shared worker pool never delays acknowledgements. Created from the ingest verticle, it closes
 * when the verticle is undeployed.
 */
final class CodecWorkers {

    static final String NAME = "tidemark-ingest-codec";

    private CodecWorkers() {
    }

    static WorkerExecutor of(Vertx vertx) {
        return vertx.createSharedWorkerExecutor(NAME, Math.max(2, Runtime.getRuntime().availableProcessors()));
    }
}
