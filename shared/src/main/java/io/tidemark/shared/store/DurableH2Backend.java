package io.tidemark.shared.store;

import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;
import de.bwaldvogel.mongo.wire.message.MongoQuery;
import io.netty.channel.Channel;

import java.util.Collection;
import java.util.Set;

/**
 * The embedded store's backend: H2 MVStore files, durable on every write, and closed to every
 * connection that has not authenticated with the store's secret. Keys are kept in
 * {@link KeyOrder} ({@link OrderedH2Backend}).
 *
 * <p>The H2 MVStore backend commits on a timer and never forces the file to disk, so an
 * acknowledged write could be lost if the process died within that window, or the machine after
 * it. Tidemark acknowledges agent positions only after data is durable, so every write command is
 * committed to the store file and the file forced to disk before its reply goes out
 * ({@link GroupCommit}).
 */
final class DurableH2Backend extends OrderedH2Backend {

    private static final Set<String> WRITES = Set.of("insert", "update", "delete", "findandmodify",
            "create", "drop", "dropdatabase", "createindexes", "dropindexes", "renamecollection");

    /** Error code of a command that failed because the store cannot write (H2's own code for a closed store). */
    static final int STORAGE_UNAVAILABLE = 90098;

    private final StoreAuthentication authentication;

    private final GroupCommit commits;

    DurableH2Backend(String file, StoreAuthentication authentication) {
        super(file);
        this.authentication = authentication;
        this.commits = new GroupCommit(getMvStore());
    }

    @Override
    public void close() {
        commits.close();
        super.close();
    }

    // Every OP_MSG command and every OP_QUERY on $cmd arrives here (handleMessage delegates).
    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        Document gate = authentication.answer(channel, database, command, query);
        if (gate != null) {
            return gate;
        }
        try {
            Document reply = super.handleCommand(channel, database, command, query);
            if (WRITES.contains(command.toLowerCase(java.util.Locale.ROOT))) {
                commits.durable();
            }
            return reply;
        } catch (RuntimeException e) {
            throw storageError(e);
        }
    }

    /**
     * A write that failed for want of space closes the MVStore for good, and every command after
     * it fails with H2's internals: the client gets one clear, classifiable reason instead
     * ({@link io.tidemark.shared.storage.StorageFailure}), and the store is reopened by the
     * storage health probe once it can write again.
     */
    private RuntimeException storageError(RuntimeException e) {
        var kind = io.tidemark.shared.storage.StorageFailure.classify(e);
        if (kind.isEmpty() && !storeClosed()) {
            return e;
        }
        String why = kind.orElse(null) == io.tidemark.shared.storage.StorageFailure.Kind.DISK_FULL
                ? "no space left on device; " : "";
        return new MongoServerError(STORAGE_UNAVAILABLE, "StorageUnavailable", "storage unavailable: " + why
                + (storeClosed() ? "the embedded store is closed after a failed write" : "the embedded store could not write"));
    }

    /** After a failed write (a full disk) the MVStore closes itself for good; see {@link EmbeddedMongo#reopen()}. */
    boolean storeClosed() {
        return getMvStore().isClosed();
    }

    // Legacy OP_QUERY on a collection.
    @Override
    public QueryResult handleQuery(MongoQuery query) {
        authentication.checkAuthenticated(query.getChannel());
        return super.handleQuery(query);
    }

    // Legacy $cmd.sys.inprog: would list other connections' operations.
    @Override
    public Collection<Document> getCurrentOperations(MongoQuery query) {
        authentication.checkAuthenticated(query.getChannel());
        return super.getCurrentOperations(query);
    }
}
