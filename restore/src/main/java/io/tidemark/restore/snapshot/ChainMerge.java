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
 * at a time, and hands out buffers of whole documents.
 *
 * <p>The base (the namespace stored whole) holds almost every document, and a chain restore must
 * keep up with a full one (docs/operations.md, the chain bound), so the base is not a queue entry
 * like the deltas: each of its documents is compared once with the smallest delta key and, when it
 * stands, copied straight from its block into the output, without a copy of its own. Only the
 * deltas' records, a small share, go through the priority queue.
 */
final class ChainMerge implements AutoCloseable {
    /** Documents are handed out in buffers of about this size. */
    private static final int OUT_BYTES = 256 * 1024;
    /** Larger than any document MongoDB stores (16 MiB) with room to spare; anything longer is damage. */
    private static final int MAX_DOCUMENT = 64 << 20;

    private final List<Chunks> levels = new ArrayList<>();
    /** The delta levels that have a current record, by key, then newest first. */
    private final PriorityQueue<DeltaLevel> deltas = new PriorityQueue<>((a, b) -> {
        int c = HeadKeys.compare(a.key, b.key);
        return c != 0 ? c : Integer.compare(a.order, b.order);
    });
    private final BaseLevel base;
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
                Stream<ByteBuffer> s = streams.get(i).toStream(1);
                levels.add(i < streams.size() - 1 ? new DeltaLevel(i, s) : new BaseLevel(i, s));
            }
            this.base = (BaseLevel) levels.get(levels.size() - 1);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The next buffer of merged documents, or null at the end. */
    ByteBuffer next() {
        if (!started) {
            started = true;
            for (Chunks l : levels) {
                if (l instanceof DeltaLevel d && d.advance()) {
                    deltas.add(d);
                }
            }
            base.advance();
        }
        byte[] out = null;
        int size = 0;
        while (true) {
            DeltaLevel d = deltas.peek();
            boolean baseStands = base.length > 0 && (d == null || HeadKeys.compare(base.key, d.key) < 0);
            if (!baseStands && d == null) {
                break;
            }
            int length = baseStands ? base.length : d.deleted ? 0 : d.doc.length;
            if (out != null && size + length > OUT_BYTES) {
                return ByteBuffer.wrap(out, 0, size); // this document starts the next buffer
            }
            if (baseStands) {
                documents++;
                if (out == null && length >= OUT_BYTES) {
                    ByteBuffer alone = ByteBuffer.wrap(base.docBytes, base.docOffset, length).slice();
                    base.advance();
                    return alone;
                }
                if (out == null) {
                    out = new byte[OUT_BYTES];
                }
                System.arraycopy(base.docBytes, base.docOffset, out, size, length);
                size += length;
                base.advance();
                continue;
            }
            deltas.poll();
            // Older levels' records of the same key lose to this one, and so does the base's document.
            while (!deltas.isEmpty() && HeadKeys.compare(deltas.peek().key, d.key) == 0) {
                DeltaLevel older = deltas.poll();
                if (older.advance()) {
                    deltas.add(older);
                }
            }
            if (base.length > 0 && HeadKeys.compare(base.key, d.key) == 0) {
                base.advance();
            }
            byte[] doc = d.deleted ? null : d.doc;
            if (d.advance()) {
                deltas.add(d);
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

    @Override
    public void close() {
        for (Chunks l : levels) {
            l.stream.close();
        }
    }

    /** One level's bytes, read from its blocks as needed. */
    private abstract class Chunks {
        final int order;
        final Stream<ByteBuffer> stream;
        final Iterator<ByteBuffer> chunks;
        ByteBuffer chunk;
        /** The current record's key. */
        byte[] key;

        Chunks(int order, Stream<ByteBuffer> stream) {
            this.order = order;
            this.stream = stream;
            this.chunks = stream.iterator();
        }

        final boolean available() {
            while (chunk == null || !chunk.hasRemaining()) {
                if (!chunks.hasNext()) {
                    return false;
                }
                chunk = chunks.next();
            }
            return true;
        }

        final void read(byte[] into, int off, int n) {
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

        /** A document whose start is the level's next byte, copied out of its blocks. */
        final byte[] document() {
            byte[] len = new byte[4];
            read(len, 0, 4);
            byte[] d = new byte[checkedLength(Bson.readInt(len, 0))];
            System.arraycopy(len, 0, d, 0, 4);
            read(d, 4, d.length - 4);
            return d;
        }

        final int checkedLength(int n) {
            if (n < 5 || n > MAX_DOCUMENT) {
                throw corrupt("a document of length " + n);
            }
            return n;
        }

        final void checkOrder(byte[] previous) {
            if (previous != null && HeadKeys.compare(previous, key) >= 0) {
                throw corrupt("keys out of order");
            }
        }

        final IllegalStateException corrupt(String detail) {
            return new IllegalStateException(what + ": level " + order + " of its chain holds " + detail);
        }
    }

    /** A delta level: upserts and deletes ({@link DeltaRecords}). */
    private final class DeltaLevel extends Chunks {
        byte[] doc;
        boolean deleted;
        private final byte[] header = new byte[DeltaRecords.HEADER_BYTES];

        DeltaLevel(int order, Stream<ByteBuffer> stream) {
            super(order, stream);
        }

        /** Reads the next record; false at the level's end. */
        boolean advance() {
            byte[] previous = key;
            if (!available()) {
                return false;
            }
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
            checkOrder(previous);
            return true;
        }
    }

    /**
     * The base level: raw documents back to back. The current document is {@code length} bytes of
     * {@code docBytes} from {@code docOffset}: inside its block when it fits there (almost always),
     * else a copy joined across blocks. {@code length} 0 once the level has ended.
     */
    private final class BaseLevel extends Chunks {
        byte[] docBytes;
        int docOffset;
        int length;

        BaseLevel(int order, Stream<ByteBuffer> stream) {
            super(order, stream);
        }

        /** Moves to the next document (or the end: length 0). */
        void advance() {
            byte[] previous = key;
            if (!available()) {
                length = 0;
                return;
            }
            int remaining = chunk.remaining();
            if (remaining >= 4 && chunk.hasArray()) {
                int at = chunk.arrayOffset() + chunk.position();
                int n = checkedLength(Bson.readInt(chunk.array(), at));
                if (n <= remaining) {
                    docBytes = chunk.array();
                    docOffset = at;
                    length = n;
                    chunk.position(chunk.position() + n);
                    key = HeadKeys.ofDocument(docBytes, docOffset);
                    checkOrder(previous);
                    return;
                }
            }
            docBytes = document();
            docOffset = 0;
            length = docBytes.length;
            key = HeadKeys.ofDocument(docBytes, 0);
            checkOrder(previous);
        }
    }
}
