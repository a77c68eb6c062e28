package io.tidemark.shared.security;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Admin tokens and agent API keys. Only SHA-256 hashes are stored: the tokens carry 256 random
 * bits, so a slow password hash would add nothing but latency to every agent batch. A token reads
 * {@code tm<kind>_<id>_<secret>}; the id finds the record, the hash proves the secret.
 */
public final class ApiKeys {

    /** What a key may do: drive the REST API, or speak the agent protocol. */
    public enum Kind {
        ADMIN("a"), AGENT("g");

        final String letter;

        Kind(String letter) {
            this.letter = letter;
        }
    }

    /** A key as just created; the only moment its token exists in plain text. */
    public record Created(String id, Kind kind, String name, String token) {
    }

    /** An authenticated caller. */
    public record Principal(String keyId, Kind kind, String name) {
    }

    private static final String COLLECTION = "apiKeys";
    /** Revocation takes effect within this long; saves a metadata read on every agent batch. */
    private static final long CACHE_MILLIS = 30_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final MongoClient db;
    private final Map<String, CachedKey> cache = new ConcurrentHashMap<>();

    private record CachedKey(JsonObject record, long loadedAt) {
    }

    public ApiKeys(MongoClient db) {
        this.db = db;
    }

    public Future<Created> create(Kind kind, String name) {
        byte[] idBytes = new byte[6];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(idBytes);
        RANDOM.nextBytes(secret);
        String id = HexFormat.of().formatHex(idBytes);
        String token = "tm" + kind.letter + "_" + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        JsonObject record = new JsonObject().put("_id", id).put("kind", kind.name()).put("name", name)
                .put("hash", sha256(token)).put("createdAt", System.currentTimeMillis());
        return db.insert(COLLECTION, record).map(r -> new Created(id, kind, name, token));
    }

    /** Keys without their hashes, newest first. */
    public Future<List<JsonObject>> list() {
        return db.findWithOptions(COLLECTION, new JsonObject(), new FindOptions()
                        .setFields(new JsonObject().put("hash", 0)).setSort(new JsonObject().put("createdAt", -1)))
                .map(keys -> {
                    keys.forEach(k -> k.put("id", k.remove("_id")));
                    return keys;
                });
    }

    public Future<Boolean> revoke(String id) {
        cache.remove(id);
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", id).put("revokedAt", new JsonObject().put("$exists", false)),
                        new JsonObject().put("$set", new JsonObject().put("revokedAt", System.currentTimeMillis())))
                .map(r -> r != null && r.getDocModified() > 0);
    }

    public Future<Boolean> anyActive(Kind kind) {
        return db.count(COLLECTION, new JsonObject().put("kind", kind.name()).put("revokedAt", new JsonObject().put("$exists", false)))
                .map(n -> n > 0);
    }

    /** The caller behind {@code token} if it is a live key of {@code kind}; a failed future otherwise. */
    public Future<Principal> authenticate(String token, Kind kind) {
        String[] parts = token == null ? new String[0] : token.split("_", 3);
        if (parts.length != 3 || !parts[0].equals("tm" + kind.letter)) {
            return Future.failedFuture(new AuthenticationException("malformed or wrong kind of API key"));
        }
        String id = parts[1];
        CachedKey cached = cache.get(id);
        Future<JsonObject> record = cached != null && System.currentTimeMillis() - cached.loadedAt < CACHE_MILLIS
                ? Future.succeededFuture(cached.record)
                : db.findOne(COLLECTION, new JsonObject().put("_id", id), null).map(r -> {
                    if (r != null) {
                        cache.put(id, new CachedKey(r, System.currentTimeMillis()));
                    }
                    return r;
                });
        return record.compose(r -> {
            if (r == null || r.containsKey("revokedAt") || !kind.name().equals(r.getString("kind"))
                    || !MessageDigest.isEqual(r.getString("hash").getBytes(StandardCharsets.US_ASCII),
                    sha256(token).getBytes(StandardCharsets.US_ASCII))) {
                return Future.failedFuture(new AuthenticationException("unknown or revoked API key"));
            }
            return Future.succeededFuture(new Principal(id, kind, r.getString("name")));
        });
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
