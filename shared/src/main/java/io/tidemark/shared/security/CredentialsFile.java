package io.tidemark.shared.security;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * {@code <dataDir>/credentials.json}: the first admin token and agent key in plain text, written
 * once with mode 0600, plus where the local server listens, so that admin commands on the same
 * machine need no flags.
 */
public final class CredentialsFile {

    public static final String NAME = "credentials.json";

    private CredentialsFile() {
    }

    public static Path path(Path dataDir) {
        return dataDir.resolve(NAME);
    }

    public static JsonObject read(Path dataDir) {
        Path file = path(dataDir);
        if (Files.exists(file)) {
            OwnerOnly.requireSecret(file);
        }
        try {
            return new JsonObject(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " (is the server's data dir right? use --data-dir)", e);
        }
    }

    /** Writes the secrets once; an existing file is never overwritten. */
    public static void writeSecrets(Path dataDir, String adminToken, String agentKey) {
        Path file = path(dataDir);
        try {
            OwnerOnly.directory(dataDir);
            OwnerOnly.createSecretFile(file);
            Files.writeString(file, new JsonObject().put("adminToken", adminToken).put("agentKey", agentKey)
                    .encodePrettily(), StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException(file + " exists already; it is never overwritten");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Records where the running server listens, keeping the secrets. */
    public static void updateEndpoints(Path dataDir, JsonObject endpoints) {
        Path file = path(dataDir);
        try {
            if (Files.exists(file)) {
                OwnerOnly.requireSecret(file);
            }
            JsonObject current = Files.exists(file) ? new JsonObject(Files.readString(file)) : new JsonObject();
            current.mergeIn(endpoints);
            Path tmp = dataDir.resolve(NAME + ".tmp");
            Files.deleteIfExists(tmp);
            OwnerOnly.createSecretFile(tmp);
            Files.writeString(tmp, current.encodePrettily(), StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file, e);
        }
    }
}
