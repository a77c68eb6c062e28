package io.tidemark.applier;

import java.nio.file.Path;

import reactor.core.publisher.Mono;

/**
 * Builds a job's head without the job's initial sync: from its latest complete snapshot and the
 * oplog store (restore's {@code HeadRebuilds}), for a head that is lost or moves to this process.
 * The applier asks for it when a head must be built and the sync's data is gone, or when told to.
 */
public interface HeadRebuilder {

    /**
     * Builds the job's head under {@code dir}, which must not exist when it completes otherwise:
     * the head appears there whole (a rename) or not at all. Runs on threads of its own.
     */
    Mono<?> rebuild(String job, Path dir);
}
