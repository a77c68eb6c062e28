package io.tidemark.shared.jobs;

/** Where a backup job is in its life. */
public enum JobState {
    /** Waiting for, or running, an initial sync of the source. */
    INITIAL_SYNC,
    /** Initial sync complete; the oplog is being captured continuously. */
    ACTIVE,
    /** The agent's resume point left the source's oplog: an operator must start a resync. */
    RESYNC_REQUIRED,
    /** Something the service cannot repair by itself happened; the job's error says what. */
    FAILED,
    /** Backup was stopped by an operator. */
    STOPPED
}
