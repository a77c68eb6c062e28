package io.tidemark.shared.security;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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

    /**
     * An authenticated caller. An agent key acts only for the deployments in its scope; a growing
     * scope also takes in each new deployment the key is first to register.
     */
    public record Principal(String keyId, Kind kind, String name, Set<String> deployments, boolean growing) {

        public boolean covers(String deployment) {
            return deployments.contains(deployment);
        }
    }

    private static final String COLLECTION = "apiKeys";
    private static final String DEPLOYMENTS = "deployments";
    private static final String GROWING = "growing";
    /**
     * Revocation takes effect within this long on every front end, even one that missed the
     * revocation notice on the event bus ({@link #forget}); saves a metadata read on every agent batch.
     */
    public static final long CACHE_MILLIS = 5_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final MongoClient db;
    private final Map<String, CachedKey> cache = new ConcurrentHashMap<>();

    private record CachedKey(JsonObject record, long loadedAt) {
    }

    public ApiKeys(MongoClient db) {
        this.db = db;
    }

    public Future<Created> create(Kind kind, String name) {
        return create(kind, name, null);
    }

    /**
     * Creates a key. An agent key created with {@code deployments} acts for exactly those; without,
     * its scope starts empty and grows by the deployments it registers. Admin tokens have no scope.
     */
    public Future<Created> create(Kind kind, String name, List<String> deployments) {
        byte[] idBytes = new byte[6];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(idBytes);
        RANDOM.nextBytes(secret);
        String id = HexFormat.of().formatHex(idBytes);
        String token = "tm" + kind.letter + "_" + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        JsonObject record = new JsonObject().put("_id", id).put("kind", kind.name()).put("name", name)
                .put("hash", sha256(token)).put("createdAt", System.currentTimeMillis());
        if (kind == Kind.AGENT) {
            record.put(DEPLOYMENTS, new JsonArray(deployments == null ? List.of() : List.copyOf(new TreeSet<>(deployments))))
                    .put(GROWING, deployments == null);
        }
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
        forget(id);
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", id).put("revokedAt", new JsonObject().put("$exists", false)),
                        new JsonObject().put("$set", new JsonObject().put("revokedAt", System.currentTimeMillis())))
                .map(r -> r != null && r.getDocModified() > 0);
    }

    /**
     * Drops what this process remembers of a key, so its next use is decided from the store: for a
     * revocation made through another front end (the notice {@code tidemark.key.revoked}).
     */
    public void forget(String id) {
        cache.remove(id);
    }

    public Future<Boolean> anyActive(Kind kind) {
        return db.count(COLLECTION, new JsonObject().put("kind", kind.name()).put("revokedAt", new JsonObject().put("$exists", false)))
                .map(n -> n > 0);
    }

    /** The caller behind {@code token} if it is a live key of {@code kind}; a failed future otherwise. */
    public Future<Principal> authenticate(String token, Kind kind) {
        return authenticate(token, kind, false);
    }

    /**
     * The same, read from the store rather than the cache: for a decision the cache could have
     * got wrong by being up to 5 seconds old, such as a scope an admin, or another
     * front end's registration, has just widened.
     */
    public Future<Principal> reauthenticate(String token, Kind kind) {
        return authenticate(token, kind, true);
    }

    private Future<Principal> authenticate(String token, Kind kind, boolean fresh) {
        String[] parts = token == null ? new String[0] : token.split("_", 3);
        if (parts.length != 3 || !parts[0].equals("tm" + kind.letter)) {
            return Future.failedFuture(new AuthenticationException("malformed or wrong kind of API key"));
        }
        String id = parts[1];
        CachedKey cached = cache.get(id);
        Future<JsonObject> record = !fresh && cached != null && System.currentTimeMillis() - cached.loadedAt < CACHE_MILLIS
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
            Set<String> scope = new HashSet<>();
            r.getJsonArray(DEPLOYMENTS, new JsonArray()).forEach(d -> scope.add(String.valueOf(d)));
            return Future.succeededFuture(new Principal(id, kind, r.getString("name"), Set.copyOf(scope), r.getBoolean(GROWING, true)));
        });
    }

    /**
     * Adds a deployment the key has just registered to its scope, if its scope grows; returns
     * whether it did.
     */
    public Future<Boolean> claim(String id, String deployment) {
        return db.updateCollection(COLLECTION, new JsonObject().put("_id", id).put("kind", Kind.AGENT.name()).put(GROWING, true)
                                .put("revokedAt", new JsonObject().put("$exists", false)),
                        new JsonObject().put("$addToSet", new JsonObject().put(DEPLOYMENTS, deployment)))
                .map(r -> {
                    cache.remove(id);
                    return r != null && r.getDocMatched() > 0;
                });
    }

    /**
     * An admin's change to an agent key's scope: adds then removes deployment names, and, when
     * {@code growing} is given, sets whether registering a new deployment adds it. Returns the key
     * (without its hash), or null if there is no agent key with that id. Other front ends see the
     * change when their cached copy expires, within 5 seconds, as for revocation.
     */
    public Future<JsonObject> rescope(String id, List<String> add, List<String> remove, Boolean growing) {
        JsonObject filter = new JsonObject().put("_id", id).put("kind", Kind.AGENT.name());
        JsonObject first = new JsonObject().put("$addToSet", new JsonObject().put(DEPLOYMENTS,
                new JsonObject().put("$each", new JsonArray(List.copyOf(add)))));
        if (growing != null) {
            first.put("$set", new JsonObject().put(GROWING, growing));
        }
        // Two updates: one update may not both add to and pull from the same array.
        return db.updateCollection(COLLECTION, filter, first)
                .compose(r -> r == null || r.getDocMatched() == 0 ? Future.succeededFuture((JsonObject) null)
                        : db.updateCollection(COLLECTION, filter, new JsonObject().put("$pull", new JsonObject().put(DEPLOYMENTS,
                                        new JsonObject().put("$in", new JsonArray(List.copyOf(remove))))))
                                .compose(x -> db.findOne(COLLECTION, filter, new JsonObject().put("hash", 0)))
                                .map(k -> {
                                    k.put("id", k.remove("_id"));
                                    return k;
                                }))
                .onComplete(x -> cache.remove(id));
    }

    /**
     * Gives agent keys from before scopes existed the scope they had in effect: the deployments
     * that exist now, growing by those they register from now on. Deployments other keys register
     * from now on stay out of their reach. Returns the ids of the keys it scoped; a key it scoped
     * once is never scoped again, so several front ends starting at once agree.
     */
    public Future<List<String>> scopeUnscopedAgentKeys(List<String> existingDeployments) {
        JsonObject unscoped = new JsonObject().put("kind", Kind.AGENT.name()).put(DEPLOYMENTS, new JsonObject().put("$exists", false));
        return db.findWithOptions(COLLECTION, unscoped, new FindOptions().setFields(new JsonObject().put("_id", 1)))
                .compose(keys -> {
                    List<String> ids = keys.stream().map(k -> k.getString("_id")).toList();
                    if (ids.isEmpty()) {
                        return Future.succeededFuture(ids);
                    }
                    return db.updateCollectionWithOptions(COLLECTION, unscoped, new JsonObject().put("$set", new JsonObject()
                                            .put(DEPLOYMENTS, new JsonArray(List.copyOf(new TreeSet<>(existingDeployments))))
                                            .put(GROWING, true).put("scopedAt", System.currentTimeMillis())),
                                    new UpdateOptions().setMulti(true))
                            .map(r -> {
                                ids.forEach(cache::remove);
                                return ids;
                            });
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
