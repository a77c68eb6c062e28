package io.tidemark.shared.bus;

/**
 * Event-bus addresses. Messages are small JSON notices; the data they speak of is in the stores.
 */
public final class Addresses {

    /** Oplog up to {@code storedTs} is durable for {@code job}: {"job", "storedTs": {"t","i"}}. */
    public static final String OPLOG_STORED = "tidemark.ingest.oplog.stored";
    /** An initial sync's slices are all durable: {"job", "generation", "startTs", "endTs"}. */
    public static final String SYNC_COMPLETED = "tidemark.ingest.sync.completed";
    /** A job changed state: {"job", "state", "error"?}. */
    public static final String JOB_STATE = "tidemark.job.state";

    private Addresses() {
    }
}
