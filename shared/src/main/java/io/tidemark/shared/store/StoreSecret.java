package io.tidemark.shared.store;

import io.tidemark.shared.security.OwnerOnly;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * {@code <dataDir>/store/secret}: the embedded store's password, 256 random bits, generated on the
 * first start (mode 0600 in the 0700 store directory). Every process of this server that has the
 * data dir reads it from there; nothing else has it. The store keeps no copy: deleting the file
 * and restarting the server rotates it.
 */
final class StoreSecret {

    static final String FILE = "secret";

    private StoreSecret() {
    }

    static Path path(Path storeDir) {
        return storeDir.resolve(FILE);
    }

    /** The secret, generated on first use. */
    static char[] readOrCreate(Path storeDir) {
        Path file = path(storeDir);
        try {
            if (!Files.exists(file)) {
                byte[] random = new byte[32];
                new SecureRandom().nextBytes(random);
                try {
                    OwnerOnly.createSecretFile(file);
                    // URL-safe, unpadded: ASCII that SASLprep and URIs leave alone.
                    Files.writeString(file, Base64.getUrlEncoder().withoutPadding().encodeToString(random) + "\n",
                            StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC);
                } catch (FileAlreadyExistsException raced) {
                    // another process created it first: read theirs
                }
            }
            return read(storeDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the embedded store's secret " + file, e);
        }
    }

    /** The secret of an existing store; refused if group or others can read it. */
    static char[] read(Path storeDir) {
        Path file = path(storeDir);
        OwnerOnly.requireSecret(file);
        try {
            String secret = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (secret.length() < 32) {
                throw new IllegalStateException(file + " is truncated; delete it and restart the server to generate a new one");
            }
            return secret.toCharArray();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the embedded store's secret " + file
                    + " (is this the server's data dir? only its owner can read it)", e);
        }
    }
}
