package io.tidemark.restore.snapshot;

import io.tidemark.applier.HeadKeys;
import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.snapshots.DeltaRecords;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.stream.Stream;
import reactor.core.publisher.Flux;

/**
 * The k-way merge of one namespace's chain: levels newest first, the last one a namespace stored
 * whole (raw documents in key order), the others delta records ({@link DeltaRecords}). Among
 * records of the same key the newest level wins; a winning delete drops the key. Pulls blocks
 * from each level's stream as it needs them (blocking: run it on a worker), one level's record
 * at a time in a priority queue, and hands out buffers of whole documents.
 */
final class ChainMerge implements AutoCloseable {
    /** Documents are handed out in buffers of about this size. */
    private static final int OUT_BYTES = 256 * 1024;

    private final List<Level> levels = new ArrayList<>();
    private final PriorityQueue<Level> queue = new PriorityQueue<>((a, b) -> {
        int c = HeadKeys.compare(a.key, b.key);
        return c != 0 ? c : Integer.compare(a.order, b.order);
    });
    private final String what;
    private final long expectedDocuments;
    private long documents;
    private boolean started;

    ChainMerge(List<Flux<ByteBuffer>> streams, String what, long expectedDocuments) {
        this.what = what;
        this.expectedDocuments = expectedDocuments;
        try {
            for (int i = 0; i < streams.size(); i++) {
                // One buffer requested ahead per level: memory stays a few blocks per level.
                levels.add(new Level(i, streams.get(i).toStream(1), i < streams.size() - 1));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The next buffer of merged documents, or null at the end. */
    ByteBuffer next() {
        if (!started) {
            started = true;
            for (Level l : levels) {
                if (l.advance()) {
                    queue.add(l);
                }
            }
        }
        byte[] out = null;
        int size = 0;
        while (!queue.isEmpty()) {
            Level top = queue.poll();
            // Older levels' records of the same key lose to this one.
            while (!queue.isEmpty() && HeadKeys.compare(queue.peek().key, top.key) == 0) {
                Level older = queue.poll();
                if (older.advance()) {
                    queue.add(older);
                }
            }
            byte[] doc = top.deleted ? null : top.doc;
            if (top.advance()) {
                queue.add(top);
            }
            if (doc == null) {
                continue;
            }
            documents++;
            if (out == null) {
                if (doc.length >= OUT_BYTES) {
                    return ByteBuffer.wrap(doc);
                }
                out = new byte[OUT_BYTES];
            }
            System.arraycopy(doc, 0, out, size, doc.length);
            size += doc.length;
            if (!queue.isEmpty() && size + nextSize() > OUT_BYTES) {
                return ByteBuffer.wrap(out, 0, size);
            }
        }
        if (out != null) {
            return ByteBuffer.wrap(out, 0, size);
        }
        if (documents != expectedDocuments) {
            throw new IllegalStateException(what + ": its chain merges to " + documents
                    + " documents, its manifest says " + expectedDocuments);
        }
        return null;
    }

    /** The size of the document the queue's head would add (a bound: it may lose or be a delete). */
    private int nextSize() {
        Level l = queue.peek();
        return l.deleted ? 0 : l.doc.length;
    }

    @Override
    public void close() {
        for (Level l : levels) {
            l.stream.close();
        }
    }

    /** One level's records, read from its blocks as needed. */
    private final class Level {
        final int order;
        final Stream<ByteBuffer> stream;
        final Iterator<ByteBuffer> chunks;
        final boolean delta;
        ByteBuffer chunk;
        byte[] key;
        byte[] doc;
        boolean deleted;
        private final byte[] header = new byte[DeltaRecords.HEADER_BYTES];

        Level(int order, Stream<ByteBuffer> stream, boolean delta) {
            this.order = order;
            this.stream = stream;
            this.chunks = stream.iterator();
            this.delta = delta;
        }

        /** Reads the next record; false at the level's end. */
        boolean advance() {
            byte[] previous = key;
            if (!available()) {
                return false;
            }
            if (delta) {
                read(header, 0, header.length);
                byte tag = header[0];
                int keyLength = Bson.readInt(header, 1);
                if (tag != DeltaRecords.UPSERT && tag != DeltaRecords.DELETE || keyLength <= 0 || keyLength > 1 << 20) {
                    throw corrupt("a malformed delta record");
                }
                key = new byte[keyLength];
                read(key, 0, keyLength);
                deleted = tag == DeltaRecords.DELETE;
                doc = deleted ? null : document();
            } else {
                deleted = false;
                doc = document();
                key = HeadKeys.ofDocument(doc, 0);
            }
            if (previous != null && HeadKeys.compare(previous, key) >= 0) {
                throw corrupt("keys out of order");
            }
            return true;
        }

        private byte[] document() {
            byte[] len = new byte[4];
            read(len, 0, 4);
            int n = Bson.readInt(len, 0);
            if (n < 5 || n > 64 << 20) {
                throw corrupt("a document of length " + n);
            }
            byte[] d = new byte[n];
            System.arraycopy(len, 0, d, 0, 4);
            read(d, 4, n - 4);
            return d;
        }

        private boolean available() {
            while (chunk == null || !chunk.hasRemaining()) {
                if (!chunks.hasNext()) {
                    return false;
                }
                chunk = chunks.next();
            }
            return true;
        }

        private void read(byte[] into, int off, int n) {
            while (n > 0) {
                if (!available()) {
                    throw corrupt("a record cut short");
                }
                int k = Math.min(n, chunk.remaining());
                chunk.get(into, off, k);
                off += k;
                n -= k;
            }
        }

        private IllegalStateException corrupt(String detail) {
            return new IllegalStateException(what + ": level " + order + " of its chain holds " + detail);
        }
    }
}
