package io.tidemark.shared.daemons;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * {@code <dataDir>/daemon-id}: a daemon's stable id, created once on its first start. It names
 * the daemon in the registry and in every binding, so it must survive restarts: a restarted daemon
 * is the same daemon and finds its bindings again. Blocking file I/O: call it on a worker.
 */
public final class DaemonId {

    static final String FILE = "daemon-id";

    private DaemonId() {
    }

    public static String readOrCreate(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        try {
            if (!Files.exists(file)) {
                String id = "d-" + UUID.randomUUID().toString().substring(0, 8);
                try {
                    Files.writeString(file, id + "\n", StandardCharsets.US_ASCII, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE, StandardOpenOption.SYNC);
                } catch (FileAlreadyExistsException raced) {
                    // another start created it first: use theirs
                }
            }
            String id = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalStateException(file + " does not hold a daemon id ('" + id.length()
                        + "' characters); restore it from a backup of the data dir or delete it to register a new daemon");
            }
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the daemon id " + file, e);
        }
    }
}
