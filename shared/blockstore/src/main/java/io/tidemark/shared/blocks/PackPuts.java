package io.tidemark.shared.blocks;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The puts of a {@link PackWriter} under way in this process: a put of a block already indexed
 * answers at once, and a put of a block another put is writing waits for that one's durability
 * (and tries itself if that one fails) instead of appending a second copy.
 */
final class PackPuts {

    private final ConcurrentHashMap<BlockId, CompletableFuture<Boolean>> writing = new ConcurrentHashMap<>();
    private final PackIndex index;
    private final Scheduler io;
    private final PackWriter writer;

    PackPuts(PackIndex index, Scheduler io, PackWriter writer) {
        this.index = index;
        this.io = io;
        this.writer = writer;
    }

    /**
     * Subscribes to {@code done} before {@code start} runs, so the answer comes from the thread
     * that completes it (the I/O scheduler) even when that is quick; cancelling does not
     * cancel the future, which other puts may share.
     */
    static <T> Mono<T> answerOf(CompletableFuture<T> done, Runnable start) {
        return Mono.create(sink -> {
            done.whenComplete((v, e) -> {
                if (e != null) {
                    sink.error(e);
                } else {
                    sink.success(v);
                }
            });
            start.run();
        });
    }

    Mono<Boolean> put(BlockId id, byte[] compressed, int uncompressedLength) {
        if (index.contains(id)) {
            return Mono.just(false);
        }
        CompletableFuture<Boolean> mine = new CompletableFuture<>();
        CompletableFuture<Boolean> other = writing.putIfAbsent(id, mine);
        if (other != null) {
            // Its durability answers this put too; if it fails, this one tries itself.
            return answerOf(other, () -> { }).map(x -> false)
                    .onErrorResume(e -> Mono.defer(() -> put(id, compressed, uncompressedLength)));
        }
        if (index.contains(id)) {
            // published between the first check and the claim
            writing.remove(id, mine);
            mine.complete(false);
            return Mono.just(false);
        }
        // The put's answer is the future, not this task: the task may go on syncing other
        // puts' records long after this one is durable.
        return answerOf(mine, () -> {
            try {
                io.schedule(() -> {
                    try {
                        writer.append(PackFormat.block(id, compressed, uncompressedLength, System.currentTimeMillis()), compressed, null,
                                mine);
                        writer.syncIfIdle();
                    } catch (Throwable e) {
                        writing.remove(id, mine);
                        mine.completeExceptionally(e);
                    }
                });
            } catch (RuntimeException e) {
                writing.remove(id, mine);
                mine.completeExceptionally(e);
            }
        });
    }

    /** A put's record is durable (or failed): later puts of the block look at the index again. */
    void finished(BlockId id, CompletableFuture<Boolean> done) {
        writing.remove(id, done);
    }
}
