package io.tidemark.applier;

import java.util.Optional;

/**
 * The heads this process holds open, for the stages that read them (snapshots, verification). A
 * head is owned by the applier; readers see only its {@link HeadReader} side, take a
 * {@link HeadView} from it and close the view, never the head. Call from worker threads: views
 * touch RocksDB.
 */
public interface HeadRegistry {

    /** The job's head once it is built (initial sync loaded), else empty. */
    Optional<? extends HeadReader> head(String job);
}
