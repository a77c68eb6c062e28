package io.tidemark.applier;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;

/**
 * A read-only view of a head frozen at one applied position (a RocksDB snapshot): position,
 * catalog, counts and documents all come from the same instant, whatever the applier does
 * meanwhile. This is what a snapshot is taken from. Holding a view pins old data on disk, so close
 * it (and its cursors) promptly.
 */
public final class HeadView implements AutoCloseable {
    private final Head head;
    private final RocksDB db;
    private final Snapshot snapshot;
    private final ReadOptions readOptions;
    private final OplogPosition position;
    private final HeadCatalog catalog;
    private final Map<Integer, Long> counts = new ConcurrentHashMap<>();
    private final Set<DocumentCursor> cursors = ConcurrentHashMap.newKeySet();
    private boolean closed;

    HeadView(Head head, RocksDB db, Snapshot snapshot) {
        this.head = head;
        this.db = db;
        this.snapshot = snapshot;
        this.readOptions = new ReadOptions().setSnapshot(snapshot);
        try {
            byte[] pos = db.get(head.metaCf(), readOptions, Bson.utf8("position"));
            position = pos == null ? OplogPosition.ORIGIN : Head.decodePosition(pos);
            List<NamespaceEntry> entries = new ArrayList<>();
            for (Map.Entry<byte[], byte[]> e : Head.readAll(db, head.catalogCf(), readOptions)) {
                entries.add(NamespaceEntry.fromBson(new RawBsonDocument(e.getValue())));
            }
            catalog = HeadCatalog.of(entries);
            for (NamespaceEntry n : entries) {
                byte[] c = db.get(head.metaCf(), readOptions, Head.countKey(n.id()));
                counts.put(n.id(), c == null ? 0L : ByteBuffer.wrap(c).getLong());
            }
        } catch (RocksDBException e) {
            close();
            throw new HeadException("cannot open view", e);
        }
    }

    /**
     * The modification sequence number of the last change to a namespace (its documents or its
     * catalog entry), if the head has recorded one: a namespace whose last change is not after a
     * snapshot's {@link #modificationSeq()}, in the same head incarnation, holds exactly what that
     * snapshot holds.
     */
    public Optional<Long> lastModified(int nsId) {
        checkOpen();
        try {
            byte[] p = db.get(head.metaCf(), readOptions, Head.modifiedKey(nsId));
            return p == null ? Optional.empty() : Optional.of(ByteBuffer.wrap(p).getLong());
        } catch (RocksDBException e) {
            throw new HeadException("cannot read the last change of namespace " + nsId, e);
        }
    }

    /** The head's modification sequence number as of this view. */
    public long modificationSeq() {
        checkOpen();
        try {
            byte[] p = db.get(head.metaCf(), readOptions, Head.modSeqKey());
            return p == null ? 0 : ByteBuffer.wrap(p).getLong();
        } catch (RocksDBException e) {
            throw new HeadException("cannot read the head's modification sequence", e);
        }
    }

    /** The incarnation of the head this view was taken from. */
    public String incarnation() {
        return head.incarnation();
    }

    /** The oplog position this view reflects. */
    public OplogPosition position() {
        return position;
    }

    public HeadCatalog catalog() {
        return catalog;
    }

    public Collection<NamespaceEntry> namespaces() {
        return catalog.namespaces();
    }

    public long documentCount(int nsId) {
        return counts.getOrDefault(nsId, 0L);
    }

    public Optional<RawBsonDocument> document(int nsId, BsonValue id) {
        checkOpen();
        try {
            byte[] v = db.get(head.docsCf(), readOptions, DocumentKeys.key(nsId, id));
            return v == null ? Optional.empty() : Optional.of(new RawBsonDocument(v));
        } catch (RocksDBException e) {
            throw new HeadException("read failed", e);
        }
    }

    /** The documents of a namespace in key order (namespace id, then _id type and bytes). */
    public DocumentCursor documents(NamespaceEntry ns) {
        return documents(ns.id());
    }

    public DocumentCursor documents(int nsId) {
        checkOpen();
        DocumentCursor c = new DocumentCursor(nsId);
        cursors.add(c);
        return c;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("view is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (DocumentCursor c : new ArrayList<>(cursors)) {
            c.close();
        }
        readOptions.close();
        db.releaseSnapshot(snapshot);
        snapshot.close();
        head.viewClosed(this);
    }

    /** Iterates one namespace's documents; must be closed (it holds a native iterator). */
    public final class DocumentCursor implements java.util.Iterator<RawBsonDocument>, AutoCloseable {
        private final Slice upper;
        private final ReadOptions options;
        private final RocksIterator it;
        private boolean open = true;
        /** The document {@link #readBytes} could not fit whole, and how much of it is read. */
        private byte[] split;
        private int splitPos;
        private long documentsRead;

        private DocumentCursor(int nsId) {
            upper = new Slice(DocumentKeys.upperBound(nsId));
            options = new ReadOptions().setSnapshot(snapshot).setIterateUpperBound(upper).setFillCache(false);
            it = db.newIterator(head.docsCf(), options);
            it.seek(DocumentKeys.prefix(nsId));
        }

        @Override
        public boolean hasNext() {
            if (!open) {
                return false;
            }
            if (it.isValid()) {
                return true;
            }
            try {
                it.status();
            } catch (RocksDBException e) {
                throw new HeadException("iteration failed", e);
            }
            return false;
        }

        @Override
        public RawBsonDocument next() {
            return new RawBsonDocument(nextBytes());
        }

        /** The next document's raw bytes. */
        public byte[] nextBytes() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            byte[] v = it.value();
            it.next();
            return v;
        }

        /**
         * Copies the raw bytes of as many next documents as fit into {@code b[off, off + len)},
         * concatenated, and returns how many bytes it wrote, or -1 when there are no more
         * documents. A document that does not fit whole is split: its first part ends this
         * read and the rest starts the next one, so {@code len} may be smaller than a document.
         *
         * <p>This is the bulk path for reading a namespace as one byte stream (what a snapshot
         * does): one JNI call copies a value straight into the caller's array, where
         * {@link #nextBytes()} allocates an array per document that the caller then copies
         * again, a gigabyte of short-lived garbage per gigabyte read.
         */
        public int readBytes(byte[] b, int off, int len) {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            int n = 0;
            if (split != null) {
                int k = Math.min(len, split.length - splitPos);
                System.arraycopy(split, splitPos, b, off, k);
                splitPos += k;
                n = k;
                if (splitPos == split.length) {
                    split = null;
                }
            }
            while (n < len && hasNext()) {
                int room = len - n;
                int size = it.value(b, off + n, room);
                if (size > room) {
                    // Rare (once per caller buffer at most): keep the whole value for the rest.
                    split = it.value();
                    splitPos = room;
                    n = len;
                } else {
                    n += size;
                }
                it.next();
                documentsRead++;
            }
            return n == 0 && len > 0 ? -1 : n;
        }

        /** Documents started by {@link #readBytes} so far (a split one counts when its first part is read). */
        public long documentsRead() {
            return documentsRead;
        }

        @Override
        public void close() {
            if (open) {
                open = false;
                it.close();
                options.close();
                upper.close();
                cursors.remove(this);
            }
        }
    }
}
