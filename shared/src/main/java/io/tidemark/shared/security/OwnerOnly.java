package io.tidemark.shared.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Owner-only places for the data dir and the secrets in it (see docs/security.md, "The data
 * dir"). Directories are created 0700 and secret files 0600, atomically, never widened later.
 *
 * <p>An existing directory that group or others may enter is tightened with a warning: data dirs
 * of older versions were created 0755, and their secrets were 0600 anyway. A secret file that
 * group or others may read is refused, as ssh does: it may have been read already, and only the
 * operator can tell whether to rotate it.
 */
public final class OwnerOnly {

    private static final Logger LOG = LoggerFactory.getLogger(OwnerOnly.class);
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);
    /** Where the file system has no POSIX modes (Windows), its ACLs are left as they are. */
    private static final boolean POSIX = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    private OwnerOnly() {
    }

    /** Creates {@code dir} (and missing parents) 0700, or tightens an existing one to 0700 with a warning. */
    public static Path directory(Path dir) {
        try {
            if (!Files.isDirectory(dir)) {
                if (dir.getParent() != null) {
                    Files.createDirectories(dir.getParent());
                }
                try {
                    Files.createDirectory(dir, attributes(DIRECTORY));
                } catch (FileAlreadyExistsException raced) {
                    // created meanwhile by another thread: checked below like any existing one
                }
            }
            if (POSIX) {
                Set<PosixFilePermission> now = Files.getPosixFilePermissions(dir);
                if (!disjoint(now)) {
                    Files.setPosixFilePermissions(dir, DIRECTORY);
                    LOG.warn("{} was accessible to group or others ({}); tightened to rwx------", dir,
                            PosixFilePermissions.toString(now));
                }
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the owner-only directory " + dir, e);
        }
    }

    /** Creates a new, empty secret file with mode 0600; fails if it exists. */
    public static Path createSecretFile(Path file) throws IOException {
        return Files.createFile(file, attributes(FILE));
    }

    /** Refuses a secret file that group or others may read or write. */
    public static void requireSecret(Path file) {
        try {
            if (POSIX) {
                Set<PosixFilePermission> now = Files.getPosixFilePermissions(file);
                if (!disjoint(now)) {
                    throw new IllegalStateException(file + " is accessible to group or others ("
                            + PosixFilePermissions.toString(now) + "); it holds a secret, so it may have been read. "
                            + "Rotate it if that matters (docs/security.md, \"The data dir\"), then chmod 600 " + file);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check the permissions of " + file, e);
        }
    }

    private static boolean disjoint(Set<PosixFilePermission> permissions) {
        return permissions.stream().noneMatch(GROUP_OR_OTHERS::contains);
    }

    private static FileAttribute<?>[] attributes(Set<PosixFilePermission> permissions) {
        return POSIX ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(permissions)} : new FileAttribute<?>[0];
    }
}
