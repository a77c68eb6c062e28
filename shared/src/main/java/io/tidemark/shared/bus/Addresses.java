package io.tidemark.shared.bus;

/**
 * Event-bus addresses. Messages are small JSON notices; the data they speak of is in the stores.
 */
public final class Addresses {

    /** Oplog up to {@code storedTs} is durable for {@code job}: {"job", "storedTs": {"t","i"}}. */
    public static final String OPLOG_STORED = "tidemark.ingest.oplog.stored";
    /** An initial sync's slices are all durable: {"job", "generation", "startTs", "endTs"}. */
    public static final String SYNC_COMPLETED = "tidemark.ingest.sync.completed";
    /**
     * A job's head opened on the daemon that runs it (a start, a restart, a rebuild after a
     * failover or a move): {"job", "appliedTs": {"t","i"}}. A snapshot that fell due meanwhile is
     * taken then.
     */
    public static final String HEAD_OPENED = "tidemark.head.opened";
    /** A head applied oplog up to a position: {"job", "appliedTs": {"t","i"}}. */
    public static final String HEAD_APPLIED = "tidemark.head.applied";
    /**
     * The per-namespace hashes of a job's head, asked of the daemon that runs it at its own
     * address ({@code JobAddresses}): {"job", "atLeast": {"t","i"}, "waitSeconds"}; reply as
     * {@code GET /api/v1/jobs/:job/head/hashes}.
     */
    public static final String HEAD_HASHES = "tidemark.head.hashes";
    /** A job changed state: {"job", "state", "error"?}. */
    public static final String JOB_STATE = "tidemark.job.state";
    /** A job whose owner's lease ran out was taken over by another daemon: {"job", "from", "to", "epoch", "leaseUntil"}. */
    public static final String JOB_FAILED_OVER = "tidemark.job.failover";
    /** A move of a job to another daemon completed: {"job", "moveId", "from", "to", "epoch", "snapshotId", "bytesLoaded", "entriesCaughtUp", "durationMs"}. */
    public static final String JOB_MOVED = "tidemark.job.moved";
    /** A move of a job failed; the job stays with a working owner: {"job", "moveId", "from", "to", "error"}. */
    public static final String JOB_MOVE_FAILED = "tidemark.job.move.failed";

    /** Take a snapshot of a job's head now: request {"job", "wait"?}; reply {"snapshotId", "status", ...}. */
    public static final String SNAPSHOT_REQUEST = "tidemark.snapshot.request";
    /** A snapshot became visible: {"job", "snapshotId", "ts": {"t","i"}, "documents", "logicalBytes", "storedBytes", ...}. */
    public static final String SNAPSHOT_COMPLETED = "tidemark.snapshot.completed";
    /** A snapshot attempt failed and left nothing visible: {"job", "snapshotId", "error"}. */
    public static final String SNAPSHOT_FAILED = "tidemark.snapshot.failed";

    /**
     * Groom a job now: request {"job", "dryRun"?}; reply with the groom report (expired snapshots,
     * trimmed oplog batches, blocks deleted, reclaimed bytes). One groom runs at a time per process.
     */
    public static final String GROOM_REQUEST = "tidemark.groom.request";
    /**
     * Check a job's live snapshots: request {"job", "readData"?}; reply {"ok", "problems": [...], ...}.
     * Served by the groomer, in turn with grooms, so a check never sees a snapshot half expired.
     */
    public static final String GROOM_CHECK = "tidemark.groom.check";
    /** A groom finished: {"job", "expired", "blocksDeleted", "reclaimedBytes", "oplogBatchesTrimmed", "dryRun"}. */
    public static final String GROOM_COMPLETED = "tidemark.groom.completed";

    /**
     * A watched file system went below its free-space threshold (or back above it), so new
     * snapshots and head builds stop (or may start again): {"path", "area", "freeBytes",
     * "thresholdBytes", "low"}. For alerting.
     */
    public static final String STORAGE_LOW = "tidemark.storage.low";
    /** The store or a watched directory stopped (or started again) taking writes: {"up", "reasons": [...]}. */
    public static final String STORAGE_STATE = "tidemark.storage.state";

    /**
     * An API key was revoked: {"id"}. Every node forgets what it cached of the key, so the
     * revocation counts everywhere at once; a node that misses it refuses the key once its cache
     * entry expires ({@code ApiKeys.CACHE_MILLIS}).
     */
    public static final String KEY_REVOKED = "tidemark.key.revoked";

    private Addresses() {
    }
}
