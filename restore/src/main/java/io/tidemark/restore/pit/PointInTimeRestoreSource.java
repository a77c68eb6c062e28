package io.tidemark.restore.pit;

import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.NamespaceType;
import io.tidemark.restore.RestoreSource;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import org.bson.BsonDocument;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SynchronousSink;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A job's data at a point in time: a temporary head loaded from the newest snapshot at or before
 * the target and replayed up to it, read through one consistent view.
 *
 * <p>Namespaces come from the head's catalog after the replay, in its order (as a snapshot taken
 * at the target would list them), so collections created, dropped or renamed by the replay, views
 * and time-series collections are all as they were at the target. Documents are read on the head's
 * own thread, about 1 MB per buffer, only as fast as the consumer asks. Closing deletes the head.
 */
public final class PointInTimeRestoreSource implements RestoreSource {

    /** Documents are handed over in buffers of about this size (a larger document gets its own). */
    static final int BUFFER_BYTES = 1 << 20;

    private final TemporaryHead head;
    private final HeadView view;
    private final OpTime ts;
    private final String snapshotId;
    private final List<Manifest.Namespace> namespaces;
    private final Map<Integer, NamespaceEntry> byIndex;
    private final long logicalBytes;
    private volatile boolean closed;

    private PointInTimeRestoreSource(TemporaryHead head, HeadView view, OpTime ts, String snapshotId,
                                     List<Manifest.Namespace> namespaces, Map<Integer, NamespaceEntry> byIndex) {
        this.head = head;
        this.view = view;
        this.ts = ts;
        this.snapshotId = snapshotId;
        this.namespaces = List.copyOf(namespaces);
        this.byIndex = byIndex;
        this.logicalBytes = namespaces.stream().mapToLong(Manifest.Namespace::logicalBytes).sum();
    }

    /**
     * Opens the view over a head that has been loaded and replayed; runs on the head's thread.
     *
     * <p>Per-namespace {@code logicalBytes} are estimates, for progress only: the head keeps counts,
     * not sizes, and summing every document's size would read the whole head once more. Each
     * namespace is estimated from the snapshot's average document size for the same collection
     * (by UUID, else name), else the snapshot's overall average.
     */
    static PointInTimeRestoreSource over(TemporaryHead head, OpTime ts, Manifest snapshot) {
        HeadView view = head.head().openView();
        Map<UUID, Manifest.Namespace> byUuid = new HashMap<>();
        Map<String, Manifest.Namespace> byName = new HashMap<>();
        for (Manifest.Namespace n : snapshot.namespaces()) {
            if (n.uuid() != null) {
                byUuid.put(n.uuid(), n);
            }
            byName.put(n.ns(), n);
        }
        double overall = snapshot.documents() == 0 ? 0 : (double) snapshot.logicalBytes() / snapshot.documents();
        List<Manifest.Namespace> namespaces = new ArrayList<>();
        Map<Integer, NamespaceEntry> byIndex = new HashMap<>();
        for (NamespaceEntry e : view.namespaces()) {
            int index = namespaces.size();
            long documents = e.type() == NamespaceType.VIEW ? 0 : view.documentCount(e.id());
            Manifest.Namespace before = e.uuid() != null && byUuid.containsKey(e.uuid()) ? byUuid.get(e.uuid()) : byName.get(e.ns());
            double average = before != null && before.documents() > 0 ? (double) before.logicalBytes() / before.documents() : overall;
            namespaces.add(new Manifest.Namespace(index, e.db(), e.collection(), e.type().wireName(), e.uuid(), e.options(),
                    new ArrayList<BsonDocument>(e.indexes()), documents, Math.round(documents * average), 0, 0, 0));
            byIndex.put(index, e);
        }
        return new PointInTimeRestoreSource(head, view, ts, snapshot.snapshotId(), namespaces, byIndex);
    }

    @Override
    public OpTime ts() {
        return ts;
    }

    /** The snapshot the restore started from. */
    public String snapshotId() {
        return snapshotId;
    }

    @Override
    public List<Manifest.Namespace> namespaces() {
        return namespaces;
    }

    @Override
    public long logicalBytes() {
        return logicalBytes;
    }

    @Override
    public Flux<ByteBuffer> documents(Manifest.Namespace namespace) {
        NamespaceEntry entry = byIndex.get(namespace.index());
        if (entry == null || !entry.db().equals(namespace.db()) || !entry.collection().equals(namespace.collection())) {
            return Flux.error(new IllegalArgumentException("namespace " + namespace.ns() + " (index " + namespace.index()
                    + ") is not one of this restore's"));
        }
        if (entry.type() == NamespaceType.VIEW) {
            return Flux.empty();
        }
        return Flux.<ByteBuffer, Pages>generate(() -> new Pages(view.documents(entry)), Pages::next,
                        // A cancel may arrive on any thread; the cursor is closed on the head's.
                        pages -> head.execute(pages::close))
                .subscribeOn(head.scheduler());
    }

    /** Closes the view and the head and deletes its files, on the head's thread. */
    @Override
    public void close() {
        closed = true;
        head.close();
    }

    /** Completes once {@link #close()}'s work is done (for callers that must know the disk is free). */
    public Mono<Void> closed() {
        closed = true;
        return head.close();
    }

    /** One namespace's documents cut into buffers of about {@link #BUFFER_BYTES}. */
    private final class Pages {
        private final HeadView.DocumentCursor cursor;
        private byte[] carried;

        Pages(HeadView.DocumentCursor cursor) {
            if (closed) {
                throw new IllegalStateException("the point-in-time restore is closed");
            }
            this.cursor = cursor;
        }

        Pages next(SynchronousSink<ByteBuffer> sink) {
            ByteBuffer out = null;
            while (true) {
                byte[] doc = carried;
                carried = null;
                if (doc == null) {
                    if (!cursor.hasNext()) {
                        if (closed) {
                            // A closed view's cursor also says "no more": never end a namespace short.
                            sink.error(new IllegalStateException("the point-in-time restore was closed while streaming"));
                            return this;
                        }
                        break;
                    }
                    doc = cursor.nextBytes();
                }
                if (out == null) {
                    out = ByteBuffer.allocate(Math.max(BUFFER_BYTES, doc.length));
                } else if (doc.length > out.remaining()) {
                    carried = doc;
                    break;
                }
                out.put(doc);
            }
            if (out == null) {
                sink.complete();
            } else {
                sink.next(out.flip());
            }
            return this;
        }

        void close() {
            cursor.close();
        }
    }
}
