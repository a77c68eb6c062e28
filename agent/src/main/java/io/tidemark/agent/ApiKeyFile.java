package io.tidemark.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * The agent's API key from a file, kept off the command line (where every local user can read
 * it in the process table). Like ssh with a private key, a file that group or others may read or
 * write is refused: the key in it must be treated as exposed.
 */
public final class ApiKeyFile {

    /** The environment variable the agent reads its key from when no key file is given. */
    public static final String ENV = "TIDEMARK_AGENT_API_KEY";

    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    private static final int MAX_BYTES = 4096;

    private ApiKeyFile() {
    }

    /** The key in {@code file} (surrounding white space dropped); an IllegalArgumentException says what is wrong. */
    public static String read(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("the API key file " + file + " does not exist or is not a regular file");
            }
            if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
                Set<PosixFilePermission> open = EnumSet.copyOf(Files.getPosixFilePermissions(file));
                open.retainAll(GROUP_OR_OTHERS);
                if (!open.isEmpty()) {
                    throw new IllegalArgumentException("the API key file " + file + " is accessible by others (mode "
                            + PosixFilePermissions.toString(Files.getPosixFilePermissions(file))
                            + "); it must be readable by its owner only: chmod 600 " + file);
                }
            }
            if (Files.size(file) > MAX_BYTES) {
                throw new IllegalArgumentException("the API key file " + file + " is larger than an API key");
            }
            String key = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (key.isEmpty() || key.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("the API key file " + file + " must hold one API key and nothing else");
            }
            return key;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the API key file " + file + ": " + e.getMessage(), e);
        }
    }
}
