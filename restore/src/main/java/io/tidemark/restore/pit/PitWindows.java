package io.tidemark.restore.pit;

import io.tidemark.restore.PitWindow;
import io.tidemark.shared.bson.BsonFrames;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.jobs.JobStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.SnapshotCatalog;
import io.tidemark.shared.store.OplogStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Mono;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a point-in-time restore of a job can reach, and where a requested target falls in it.
 *
 * <p>A restore starts from a complete snapshot and replays the stored oplog after it, so the
 * window starts at the oldest complete snapshot from which the oplog store still holds the chain
 * (its oldest batch follows a position at or before the snapshot: the groomer trims the chain only
 * from its old end, and a resync replaces it, so such a snapshot's oplog is all there), but never
 * earlier than {@code now - pitWindow}, the retention operators promise. It ends at the newest
 * stored position. Both ends are inclusive.
 */
public final class PitWindows {

    /**
     * How far an entry's {@code wall} may run ahead of its timestamp's seconds. MongoDB takes both
     * from the primary's clock for the same write, so they agree to within the time one write takes;
     * a minute is a generous allowance that bounds how much oplog a wall-clock lookup reads.
     */
    static final long WALL_SKEW_SECONDS = 60;

    /** A complete snapshot a restore may start from. */
    public record SnapshotPoint(String snapshotId, OpTime ts) {
    }

    /** The window with the snapshots inside it, oldest first. */
    public record Reach(String job, PitWindow window, List<SnapshotPoint> snapshots) {
        /** The newest usable snapshot at or before {@code target}. */
        public SnapshotPoint startFor(OpTime target) {
            SnapshotPoint best = null;
            for (SnapshotPoint s : snapshots) {
                if (s.ts().compareTo(target) <= 0) {
                    best = s;
                }
            }
            if (best == null) {
                throw outside(job, target.toString(), window);
            }
            return best;
        }
    }

    private final JobStore jobs;
    private final SnapshotCatalog catalog;
    private final OplogStore oplog;
    private final Duration retention;
    private final Clock clock;

    public PitWindows(JobStore jobs, SnapshotCatalog catalog, OplogStore oplog, Duration retention, Clock clock) {
        this.jobs = Objects.requireNonNull(jobs, "jobs");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.oplog = Objects.requireNonNull(oplog, "oplog");
        this.retention = Objects.requireNonNull(retention, "retention");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Mono<PitWindow> window(String job) {
        return reach(job).map(Reach::window);
    }

    /** The window and its snapshots, or a 409 saying why the job has none. */
    public Mono<Reach> reach(String job) {
        Mono<OpTime> stored = mono(() -> jobs.find(job))
                .flatMap(j -> {
                    OpTime ts = JobStore.position(j, "storedTs");
                    return ts != null ? Mono.just(ts) : oplog.latest(job).map(OplogStore.BatchInfo::last);
                });
        Mono<OpTime> chainStart = oplog.oldest(job).map(OplogStore.BatchInfo::prev);
        Mono<List<SnapshotPoint>> snapshots = mono(() -> catalog.list(job, false)).map(entries -> {
            List<SnapshotPoint> out = new ArrayList<>();
            for (JsonObject e : entries) {
                out.add(new SnapshotPoint(e.getString("_id"), SnapshotCatalog.ts(e)));
            }
            out.sort(Comparator.comparing(SnapshotPoint::ts));
            return out;
        });
        return stored.switchIfEmpty(Mono.error(() -> ApiException.conflict("job " + job
                        + " has no stored oplog, so no point in time can be restored", null)))
                .flatMap(to -> chainStart.switchIfEmpty(Mono.error(() -> ApiException.conflict("job " + job
                                + " has no stored oplog, so no point in time can be restored", null)))
                        .flatMap(oldestPrev -> snapshots.map(all -> reach(job, to, oldestPrev, all))));
    }

    private Reach reach(String job, OpTime to, OpTime chainStart, List<SnapshotPoint> all) {
        List<SnapshotPoint> usable = new ArrayList<>();
        for (SnapshotPoint s : all) {
            if (s.ts().compareTo(chainStart) >= 0 && s.ts().compareTo(to) <= 0) {
                usable.add(s);
            }
        }
        if (usable.isEmpty()) {
            throw ApiException.conflict("job " + job + " has no complete snapshot from which the stored oplog continues"
                    + " without a gap (the oplog store starts after " + chainStart + ", " + PitWindow.iso(chainStart)
                    + "); take a snapshot (tidemark snapshot create --job " + job + ") to start a point-in-time window", null);
        }
        long floorSeconds = Math.max(0, clock.instant().minus(retention).getEpochSecond());
        OpTime floor = new OpTime(floorSeconds, 0);
        OpTime from = usable.get(0).ts().compareTo(floor) >= 0 ? usable.get(0).ts() : floor;
        if (from.compareTo(to) > 0) {
            throw ApiException.conflict("job " + job + " has nothing inside its point-in-time window: the stored oplog ends at "
                    + to + " (" + PitWindow.iso(to) + "), more than " + retention.toHours() + " hours ago", null);
        }
        return new Reach(job, new PitWindow(from, to), List.copyOf(usable));
    }

    /** Checks an oplog-timestamp target against the window (422 when outside). */
    public Mono<Reach> check(String job, OpTime target) {
        return reach(job).map(r -> {
            if (!r.window().contains(target)) {
                throw outside(job, target.toString(), r.window());
            }
            return r;
        });
    }

    /**
     * The position a wall-clock time maps to: the last entry before the first one whose wall-clock
     * second is after {@code wallClock}'s second, so every entry of that second is included and the
     * restore is a prefix of the oplog. Entries without {@code wall} are judged by their timestamp's
     * seconds. Only a few minutes of oplog around the target are read: timestamps and wall clocks
     * agree to within {@link #WALL_SKEW_SECONDS}.
     */
    public Mono<OpTime> positionAt(String job, Instant wallClock) {
        long second = wallClock.getEpochSecond();
        return reach(job).flatMap(r -> {
            PitWindow w = r.window();
            if (second < w.from().seconds() || second > w.to().seconds() + WALL_SKEW_SECONDS) {
                return Mono.error(outside(job, wallClock.toString(), w));
            }
            OpTime near = new OpTime(Math.max(0, second - WALL_SKEW_SECONDS), 0);
            OpTime start = near.compareTo(w.from()) > 0 ? near : w.from();
            record Scan(OpTime last, boolean passed) {
            }
            return oplog.chainAfter(job, start, 2)
                    .takeUntil(b -> b.info().last().compareTo(w.to()) >= 0)
                    .concatMapIterable(PitWindows::entries)
                    .filter(e -> OpTime.of(e.getTimestamp("ts")).isAfter(start) && !OpTime.of(e.getTimestamp("ts")).isAfter(w.to()))
                    .takeUntil(e -> wallSecond(e) > second)
                    .reduce(new Scan(start, false), (s, e) -> s.passed() ? s
                            : wallSecond(e) > second ? new Scan(s.last(), true) : new Scan(OpTime.of(e.getTimestamp("ts")), false))
                    .flatMap(s -> s.passed() ? Mono.just(s.last())
                            // Every stored entry is at or before that second, but entries of it (or
                            // after it) may not have arrived yet: not a point that can be promised.
                            : Mono.error(outside(job, wallClock + " (after the newest stored oplog entry)", w)));
        });
    }

    public static List<RawBsonDocument> entries(OplogStore.Batch batch) {
        List<BsonFrames.Frame> frames = BsonFrames.split(batch.entries());
        List<RawBsonDocument> out = new ArrayList<>(frames.size());
        for (BsonFrames.Frame f : frames) {
            out.add(new RawBsonDocument(batch.entries(), f.offset(), f.length()));
        }
        return out;
    }

    private static long wallSecond(RawBsonDocument entry) {
        BsonValue wall = entry.get("wall");
        if (wall != null && wall.isDateTime()) {
            return Math.floorDiv(wall.asDateTime().getValue(), 1000L);
        }
        return OpTime.of(entry.getTimestamp("ts")).seconds();
    }

    /** 422: the target is not inside the window; says what is, in both forms a target may take. */
    public static ApiException outside(String job, String target, PitWindow window) {
        return new ApiException(422, "point in time " + target + " is outside job " + job
                + "'s restore window; available: " + window.describe(),
                new JsonObject().put("available", window.toJson()));
    }

    private static <T> Mono<T> mono(Supplier<Future<T>> future) {
        return Mono.fromCompletionStage(() -> future.get().toCompletionStage());
    }

    /**
     * Resolves what an operator typed, {@code T:I} or an ISO-8601 time ({@code 2024-05-01T12:00:00Z}),
     * to the oplog position to restore, refusing targets outside the window.
     */
    public Mono<OpTime> resolve(String job, String target) {
        if (target != null && target.matches("\\d+:\\d+")) {
            OpTime ts;
            try {
                ts = OpTime.parse(target);
            } catch (IllegalArgumentException e) {
                return Mono.error(ApiException.badRequest(e.getMessage()));
            }
            return check(job, ts).thenReturn(ts);
        }
        Instant wallClock;
        try {
            wallClock = Instant.parse(target);
        } catch (RuntimeException e) {
            return Mono.error(ApiException.badRequest("a point in time is an oplog timestamp T:I or an ISO-8601 time such as"
                    + " 2024-05-01T12:00:00Z, not '" + target + "'"));
        }
        return positionAt(job, wallClock);
    }
}
