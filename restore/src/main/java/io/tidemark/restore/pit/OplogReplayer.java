package io.tidemark.restore.pit;

import io.tidemark.applier.OplogApplier;
import io.tidemark.applier.OplogEntryException;
import io.tidemark.restore.PitWindow;
import io.tidemark.shared.http.ApiException;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.store.OplogStore;
import org.bson.RawBsonDocument;
import reactor.core.publisher.Mono;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Replays the oplog store onto a temporary head from the snapshot's position up to exactly the
 * target, inclusive, through the heads' own {@link OplogApplier} in {@link OplogApplier.Mode#STEADY}:
 * the snapshot is exact, so an entry that does not fit it is divergence, reported with the entry,
 * never skipped. Batches are pulled in chain order a couple ahead of the head's thread; the batch
 * that crosses the target is cut there and nothing after it is read.
 */
public final class OplogReplayer {

    /** Stored batches read ahead of the applier (each up to a few MB). */
    private static final int BATCHES_AHEAD = 2;

    private final OplogStore oplog;

    public OplogReplayer(OplogStore oplog) {
        this.oplog = oplog;
    }

    /** Completes with the number of entries applied. */
    Mono<Long> replay(TemporaryHead target, String job, String snapshotId, OpTime from, OpTime to, PitWindow window) {
        return replay(target, job, snapshotId, from, to, window, n -> { });
    }

    /** The same, telling {@code replayed} how many entries each batch applied, on the head's thread. */
    public Mono<Long> replay(TemporaryHead target, String job, String snapshotId, OpTime from, OpTime to, PitWindow window,
                             java.util.function.LongConsumer replayed) {
        return Mono.defer(() -> {
            OplogApplier applier = new OplogApplier(target.head());
            AtomicReference<OpTime> reached = new AtomicReference<>();
            AtomicLong applied = new AtomicLong();
            return oplog.chainAfter(job, from, BATCHES_AHEAD)
                    .takeUntil(b -> b.info().last().compareTo(to) >= 0)
                    .concatMap(batch -> target.run(() -> {
                        OpTime expected = reached.get();
                        boolean continues = expected == null
                                ? batch.info().prev().compareTo(from) <= 0
                                : batch.info().prev().equals(expected);
                        if (!continues) {
                            throw gap(job, expected == null ? from : expected, to, window);
                        }
                        int n = apply(applier, batch, to, job, snapshotId);
                        applied.addAndGet(n);
                        replayed.accept(n);
                        reached.set(batch.info().last());
                    }), 1)
                    .then(Mono.fromCallable(() -> {
                        OpTime end = reached.get();
                        if (from.compareTo(to) < 0 && (end == null || end.compareTo(to) < 0)) {
                            throw gap(job, end == null ? from : end, to, window);
                        }
                        return applied.get();
                    }));
        });
    }

    private static int apply(OplogApplier applier, OplogStore.Batch batch, OpTime to, String job, String snapshotId) {
        List<RawBsonDocument> entries = PitWindows.entries(batch);
        int cut = 0;
        while (cut < entries.size() && !OpTime.of(entries.get(cut).getTimestamp("ts")).isAfter(to)) {
            cut++;
        }
        if (cut == 0) {
            return 0;
        }
        try {
            return applier.apply(entries.subList(0, cut), OplogApplier.Mode.STEADY).applied();
        } catch (OplogEntryException e) {
            throw new PointInTimeReplayException("replaying job " + job + "'s oplog from snapshot " + snapshotId
                    + " towards " + to + " failed: " + e.getMessage(), e);
        }
    }

    private static ApiException gap(String job, OpTime after, OpTime to, PitWindow window) {
        return ApiException.conflict("the oplog store cannot reach " + to + " (" + PitWindow.iso(to) + ") for job " + job
                + " without a gap: nothing stored follows " + after + " (" + PitWindow.iso(after) + "); available: "
                + window.describe(), new io.vertx.core.json.JsonObject().put("available", window.toJson()));
    }
}
