package io.tidemark.shared.store;

import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

import java.util.Set;

/**
 * The H2 MVStore backend commits on a timer, so an acknowledged write could be lost if the process
 * died within that window. Tidemark acknowledges agent positions only after data is durable, so
 * every write command is committed to the store file before its reply goes out.
 */
final class DurableH2Backend extends H2Backend {

    private static final Set<String> WRITES = Set.of("insert", "update", "delete", "findandmodify",
            "create", "drop", "dropdatabase", "createindexes", "dropindexes", "renamecollection");

    DurableH2Backend(String file) {
        super(file);
    }

    @Override
    public Document handleCommand(Channel channel, String database, String command, Document query) {
        Document reply = super.handleCommand(channel, database, command, query);
        if (WRITES.contains(command.toLowerCase(java.util.Locale.ROOT))) {
            synchronized (this) {
                getMvStore().commit();
            }
        }
        return reply;
    }
}
