package io.tidemark.restore.history;

import io.tidemark.applier.DocumentUpdates;
import io.tidemark.restore.PitWindow;
import io.tidemark.restore.pit.PitWindows;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.OplogStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The history of one document: its version in every retained snapshot, found by key through each
 * manifest's key index ({@link DocumentLocator}: one page and one block per chain level, never a
 * namespace), and its changes inside the point-in-time window, picked out of the stored oplog
 * ({@link OplogChanges}); and the document as it was at one moment of the window: its version in
 * the newest snapshot at or before that moment, with its changes up to the moment applied.
 *
 * <p>The oplog part reads the window's stored batches in position order and skips, by their
 * {@code ns} string, the entries of other namespaces; the state at a moment reads only the oplog
 * between its snapshot and the moment (one snapshot interval at most), as a point-in-time restore
 * does. Parsing runs on a worker, never on an event loop.
 */
public final class DocumentHistory {

    private static final JsonWriterSettings CANONICAL = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();
    /** Stored batches read ahead of the parser. */
    private static final int BATCHES_AHEAD = 2;

    private final JobStore jobs;
    private final SnapshotCatalog catalog;
    private final ManifestStore manifests;
    private final OplogStore oplog;
    private final BlockStore blocks;
    private final PitWindows windows;

    public DocumentHistory(JobStore jobs, SnapshotCatalog catalog, ManifestStore manifests, OplogStore oplog,
                           BlockStore blocks, PitWindows windows) {
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.manifests = Objects.requireNonNull(manifests, "manifests");
        this.oplog = Objects.requireNonNull(oplog, "oplog");
        this.blocks = Objects.requireNonNull(blocks, "blocks");
        this.windows = Objects.requireNonNull(windows, "windows");
    }

    /** The history service of a server: its stores, block store and point-in-time windows. */
    public static DocumentHistory create(io.tidemark.shared.store.Stores stores, BlockStore blocks, PitWindows windows) {
        return new DocumentHistory(stores.jobs(), new SnapshotCatalog(stores.metadata()),
                new ManifestStore(stores.blockstore().database()), stores.oplog(), blocks, windows);
    }

    /** What was asked: the namespace and the document's {@code _id} with its head key. */
    record Target(String ns, BsonValue id, byte[] key) {
        static Target of(String ns, String idJson) {
            checkNamespace(ns);
            BsonValue id = parseId(idJson);
            return new Target(ns, id, DocumentUpdates.keyOf(id));
        }
    }

    /** Every version of the document in the job's retained snapshots and its changes in the oplog window. */
    public Mono<JsonObject> history(String jobIdOrName, String ns, String idJson) {
        return Mono.fromCallable(() -> Target.of(ns, idJson)).flatMap(target -> job(jobIdOrName).flatMap(job -> {
            long started = System.nanoTime();
            DocumentLocator locator = new DocumentLocator(manifests, blocks);
            Mono<List<JsonObject>> versions = mono(() -> catalog.list(job, false))
                    .flatMapMany(entries -> Flux.fromIterable(entries)
                            .sort(Comparator.comparing((JsonObject e) -> SnapshotCatalog.ts(e))
                                    .thenComparing(e -> e.getString("_id"))))
                    // A few snapshots at once: each is a handful of round trips to the stores.
                    .flatMapSequential(e -> version(locator, e.getString("_id"), target), 4, 1)
                    .collectList();
            Mono<JsonObject> changes = windows.reach(job)
                    .flatMap(reach -> scan(job, target, reach.window().from(), reach.window().to())
                            .map(list -> new JsonObject().put("window", reach.window().toJson())
                                    .put("changes", changesJson(list))))
                    .onErrorResume(ApiException.class, e -> Mono.just(new JsonObject().put("error", e.getMessage())
                            .put("changes", new JsonArray())));
            return versions.zipWith(changes).map(t -> {
                List<JsonObject> snaps = t.getT1();
                if (snaps.stream().noneMatch(v -> v.getBoolean("collectionPresent", false))
                        && t.getT2().getJsonArray("changes").isEmpty()) {
                    throw new ApiException(404, "namespace " + target.ns() + " is in none of job " + job
                            + "'s snapshots and nothing in its oplog window writes to it");
                }
                return new JsonObject().put("job", job).put("ns", target.ns()).put("id", idJson(target.id()))
                        .put("versions", group(snaps))
                        .put("oplog", t.getT2())
                        .put("blocksRead", locator.blocksRead())
                        .put("millis", (System.nanoTime() - started) / 1_000_000);
            });
        }));
    }

    /**
     * The document as it was at {@code at} ({@code T:I} or ISO-8601): {@code exists} and the
     * document, or {@code exists: false}. 422 when the moment is outside the window.
     */
    public Mono<JsonObject> at(String jobIdOrName, String ns, String idJson, String at) {
        return Mono.fromCallable(() -> Target.of(ns, idJson)).flatMap(target -> job(jobIdOrName).flatMap(job -> {
            if (at == null || at.isBlank()) {
                return Mono.error(ApiException.badRequest("at is required: an oplog timestamp T:I or an ISO-8601 time"));
            }
            DocumentLocator locator = new DocumentLocator(manifests, blocks);
            return windows.resolve(job, at.trim()).flatMap(ts -> windows.reach(job).flatMap(reach -> {
                PitWindows.SnapshotPoint start = reach.startFor(ts);
                return locator.manifest(start.snapshotId()).flatMap(m -> {
                    Manifest.Namespace n = DocumentLocator.namespace(m, target.ns());
                    Mono<Optional<byte[]>> base = n == null ? Mono.just(Optional.empty())
                            : locator.find(m, n, target.key()).map(Optional::of).defaultIfEmpty(Optional.empty());
                    return base.zipWith(scan(job, target, m.ts(), ts)).flatMap(t -> {
                        List<OplogChanges.Change> changes = t.getT2();
                        if (n == null && changes.isEmpty()) {
                            return known(job, target).then(Mono.fromCallable(() -> absentAt(job, target, ts, m, 0)));
                        }
                        byte[] doc = t.getT1().orElse(null);
                        try {
                            for (OplogChanges.Change c : changes) {
                                doc = c.applyTo(doc);
                            }
                        } catch (IllegalStateException | IllegalArgumentException e) {
                            return Mono.error(ApiException.conflict("cannot rebuild document " + idJson(target.id())
                                    + " of " + target.ns() + " at " + ts + ": " + e.getMessage(), null));
                        }
                        JsonObject out = absentAt(job, target, ts, m, changes.size());
                        if (doc != null) {
                            out.put("exists", true).put("document", json(doc));
                        }
                        return Mono.just(out);
                    });
                });
            }));
        }));
    }

    private JsonObject absentAt(String job, Target target, OpTime ts, Manifest base, int applied) {
        return new JsonObject().put("job", job).put("ns", target.ns()).put("id", idJson(target.id()))
                .put("at", ts.toJson()).put("atTime", PitWindow.iso(ts)).put("exists", false)
                .put("fromSnapshot", new JsonObject().put("snapshot", base.snapshotId()).put("ts", base.ts().toJson()))
                .put("changesApplied", applied);
    }

    /** 404 unless some retained snapshot has the namespace (a moment with no trace of it is an unknown namespace). */
    private Mono<Void> known(String job, Target target) {
        return mono(() -> catalog.list(job, false))
                .flatMapMany(Flux::fromIterable)
                .concatMap(e -> manifests.read(e.getString("_id")), 1)
                .any(m -> DocumentLocator.namespace(m, target.ns()) != null)
                .flatMap(any -> any ? Mono.<Void>empty() : Mono.error(new ApiException(404, "namespace " + target.ns()
                        + " is in none of job " + job + "'s snapshots")));
    }

    /** One snapshot's version of the document. */
    private Mono<JsonObject> version(DocumentLocator locator, String snapshotId, Target target) {
        return locator.manifest(snapshotId).flatMap(m -> {
            JsonObject snap = new JsonObject().put("snapshot", m.snapshotId()).put("ts", m.ts().toJson())
                    .put("time", PitWindow.iso(m.ts())).put("kind", m.chain().kind());
            Manifest.Namespace n = DocumentLocator.namespace(m, target.ns());
            if (n == null) {
                return Mono.just(new JsonObject().put("snapshot", snap).put("collectionPresent", false));
            }
            return locator.find(m, n, target.key())
                    .map(doc -> new JsonObject().put("snapshot", snap).put("collectionPresent", true).put("raw", doc))
                    .defaultIfEmpty(new JsonObject().put("snapshot", snap).put("collectionPresent", true));
        }).onErrorResume(e -> !(e instanceof ApiException), e -> Mono.just(new JsonObject()
                .put("snapshot", new JsonObject().put("snapshot", snapshotId)).put("error", String.valueOf(e.getMessage()))));
    }

    /** Consecutive snapshots with the same version become one entry listing them. */
    private static JsonArray group(List<JsonObject> perSnapshot) {
        JsonArray out = new JsonArray();
        JsonObject current = null;
        byte[] currentRaw = null;
        String currentState = null;
        for (JsonObject v : perSnapshot) {
            byte[] raw = v.getBinary("raw");
            String state = v.containsKey("error") ? "error:" + v.getString("error")
                    : raw != null ? "present" : v.getBoolean("collectionPresent") ? "absent" : "noCollection";
            if (current == null || !state.equals(currentState) || !Arrays.equals(raw, currentRaw) || state.startsWith("error")) {
                current = new JsonObject().put("exists", raw != null);
                if (raw != null) {
                    current.put("document", json(raw));
                } else if (state.equals("noCollection")) {
                    current.put("absent", "the snapshot does not have the collection");
                } else if (state.equals("absent")) {
                    current.put("absent", "no such document in the snapshot");
                } else {
                    current.put("error", v.getString("error"));
                }
                current.put("snapshots", new JsonArray());
                out.add(current);
                currentRaw = raw;
                currentState = state;
            }
            current.getJsonArray("snapshots").add(v.getJsonObject("snapshot"));
        }
        return out;
    }

    /** The document's changes in {@code (from, to]}, in position order. */
    private Mono<List<OplogChanges.Change>> scan(String job, Target target, OpTime from, OpTime to) {
        return Mono.defer(() -> {
            OplogChanges picker = new OplogChanges(target.ns(), target.key());
            if (from.compareTo(to) >= 0) {
                return Mono.just(picker.changes());
            }
            return oplog.chainAfter(job, from, BATCHES_AHEAD)
                    .takeUntil(b -> b.info().last().compareTo(to) >= 0)
                    .publishOn(Schedulers.boundedElastic(), 1)
                    .doOnNext(batch -> {
                        for (RawBsonDocument e : PitWindows.entries(batch)) {
                            OpTime ts = OpTime.of(e.getTimestamp("ts"));
                            if (ts.isAfter(from) && !ts.isAfter(to)) {
                                picker.entry(e);
                            }
                        }
                    })
                    .then(Flux.defer(() -> Flux.fromIterable(picker.missing()))
                            .concatMap(m -> chainBefore(job, m.prev()).collectList().doOnNext(chain -> picker.resolve(m, chain)), 1)
                            .then())
                    .then(Mono.fromCallable(picker::changes));
        });
    }

    /** Most entries one transaction's chain is followed back through (MongoDB splits at 16 MB an entry). */
    private static final int CHAIN_LIMIT = 100_000;

    /**
     * A transaction's earlier entries, newest first, from {@code prev} back along {@code prevOpTime}:
     * each found by position through the oplog store's index on batch ends, one batch read each.
     */
    private Flux<RawBsonDocument> chainBefore(String job, OpTime prev) {
        return entryAt(job, prev)
                .expand(e -> {
                    OpTime p = OplogChanges.prevOf(e);
                    return p == null ? Mono.empty() : entryAt(job, p);
                })
                .take(CHAIN_LIMIT);
    }

    /** The stored entry at {@code ts}; an error when the store no longer holds it (trimmed). */
    private Mono<RawBsonDocument> entryAt(String job, OpTime ts) {
        OpTime before = ts.increment() > 0 ? new OpTime(ts.seconds(), ts.increment() - 1)
                : new OpTime(Math.max(0, ts.seconds() - 1), 0xFFFF_FFFFL);
        return oplog.readAfter(job, before, 1).next()
                .publishOn(Schedulers.boundedElastic())
                .flatMap(batch -> Mono.justOrEmpty(PitWindows.entries(batch).stream()
                        .filter(e -> OpTime.of(e.getTimestamp("ts")).equals(ts)).findFirst()))
                .switchIfEmpty(Mono.error(() -> ApiException.conflict("a transaction committed in the window began at " + ts
                        + ", which the oplog store no longer holds", null)));
    }

    private static JsonArray changesJson(List<OplogChanges.Change> changes) {
        JsonArray out = new JsonArray();
        for (OplogChanges.Change c : changes) {
            JsonObject j = new JsonObject().put("ts", c.ts().toJson()).put("position", c.ts().toString())
                    .put("op", c.kind());
            if (c.wallMillis() != null) {
                j.put("time", Instant.ofEpochMilli(c.wallMillis()).toString());
            }
            BsonDocument o = c.operation().getDocument("o", null);
            switch (c.kind()) {
                case OplogChanges.INSERT, OplogChanges.REPLACE -> j.put("document", json(o));
                case OplogChanges.UPDATE -> j.put("update", json(o));
                case OplogChanges.RENAME_AWAY -> j.put("to", c.otherNs());
                case OplogChanges.RENAME_IN -> j.put("from", c.otherNs());
                default -> {
                    if (o != null && !OplogChanges.DELETE.equals(c.kind())) {
                        j.put("command", json(o));
                    }
                }
            }
            if (c.txn() != null) {
                j.put("transaction", json(c.txn()));
            }
            if (c.writtenAt() != null) {
                j.put("writtenAt", c.writtenAt().toJson());
            }
            if (c.inApplyOps()) {
                j.put("applyOps", true);
            }
            out.add(j);
        }
        return out;
    }

    private Mono<String> job(String idOrName) {
        return mono(() -> jobs.resolve(idOrName)).map(j -> j.getString("_id"));
    }

    static JsonObject json(byte[] raw) {
        return new JsonObject(new RawBsonDocument(raw).toJson(CANONICAL));
    }

    static JsonObject json(BsonDocument d) {
        return new JsonObject(d.toJson(CANONICAL));
    }

    static Object idJson(BsonValue id) {
        return json(new BsonDocument("_id", id)).getValue("_id");
    }

    /** 400 unless {@code db.collection}. */
    static void checkNamespace(String ns) {
        int dot = ns == null ? -1 : ns.indexOf('.');
        if (dot <= 0 || dot == ns.length() - 1 || ns.contains("$") || ns.indexOf('\0') >= 0 || ns.contains(" ")) {
            throw ApiException.badRequest("ns must be a collection's namespace, db.collection, not '" + ns + "'");
        }
    }

    /** The {@code _id} from its extended JSON form; 400 when it is not one value an {@code _id} can be. */
    static BsonValue parseId(String text) {
        String hint = "id must be the document's _id as extended JSON, such as 42, \"abc\" or {\"$oid\": \"5f0c…\"}";
        if (text == null || text.isBlank()) {
            throw ApiException.badRequest(hint);
        }
        BsonDocument d;
        try {
            d = BsonDocument.parse("{\"_id\": " + text + "}");
        } catch (RuntimeException e) {
            throw ApiException.badRequest(hint + "; '" + text + "' is not valid JSON (" + e.getMessage() + ")");
        }
        BsonValue id = d.get("_id");
        if (d.size() != 1 || id == null) {
            throw ApiException.badRequest(hint + "; got '" + text + "'");
        }
        if (id.isArray() || id.getBsonType() == org.bson.BsonType.UNDEFINED) {
            throw ApiException.badRequest("an _id cannot be an array or undefined: '" + text + "'");
        }
        return id;
    }

    private static <T> Mono<T> mono(Supplier<io.vertx.core.Future<T>> future) {
        return Mono.fromCompletionStage(() -> future.get().toCompletionStage());
    }
}
