package io.tidemark.applier;

import io.tidemark.shared.oplog.OpTime;
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
 * meanwhile. This is all that snapshots, restores and verification see of a head. Holding a view
 * pins old data on disk, so close it (and its cursors) promptly.
 *
 * <p>Safe to use from any thread while the head applies, and to close from another thread: every
 * read holds a lease of the view (or of its cursor) while it is in RocksDB, and closing waits for
 * the reads in progress before it frees anything. The head closes its views when it closes; a
 * read after that fails with {@link HeadClosedException}.
 */
@SuppressWarnings("try") // leases are held for their try block, never referenced in it
public final class HeadView implements AutoCloseable {
    private final Head head;
    private final HeadDatabase database;
    private final RocksDB db;
    private final Snapshot snapshot;
    private final ReadOptions readOptions;
    private final LeaseGate gate;
    private final OpTime position;
    private final long term;
    private final HeadCatalog catalog;
    private final Map<Integer, Long> counts = new ConcurrentHashMap<>();
    private final Set<DocumentCursor> cursors = ConcurrentHashMap.newKeySet();
    /** A cursor's reader outlasted the close's wait: the snapshot stays allocated for it. */
    private volatile boolean leaked;

    /** Called by the head under its lease. */
    HeadView(Head head, HeadDatabase database, Snapshot snapshot) {
        this.head = head;
        this.database = database;
        this.db = database.db();
        this.snapshot = snapshot;
        this.gate = new LeaseGate("a view of the head at " + database.directory());
        this.readOptions = new ReadOptions().setSnapshot(snapshot);
        try {
            byte[] pos = db.get(database.meta, readOptions, MetaKeys.POSITION);
            position = pos == null ? OpTime.ZERO : MetaKeys.decodePosition(pos);
            term = pos == null ? OplogEntry.UNKNOWN_TERM : MetaKeys.decodeTerm(pos);
            List<NamespaceEntry> entries = new ArrayList<>();
            for (Map.Entry<byte[], byte[]> e : database.readAll(database.catalog, readOptions)) {
                entries.add(NamespaceEntry.fromBson(new RawBsonDocument(e.getValue())));
            }
            catalog = HeadCatalog.of(entries);
            for (NamespaceEntry n : entries) {
                byte[] c = db.get(database.meta, readOptions, MetaKeys.count(n.id()));
                counts.put(n.id(), c == null ? 0L : MetaKeys.decodeLong(c));
            }
        } catch (RocksDBException | RuntimeException e) {
            free();
            throw e instanceof HeadException h ? h : new HeadException("cannot open view", e);
        }
    }

    /**
     * The modification sequence number of the last change to a namespace (its documents or its
     * catalog entry), if the head has recorded one: a namespace whose last change is not after a
     * snapshot's {@link #modificationSeq()}, in the same head incarnation, holds exactly what that
     * snapshot holds.
     */
    public Optional<Long> lastModified(int nsId) {
        byte[] p = get(database.meta, MetaKeys.modified(nsId), "the last change of namespace " + nsId);
        return p == null ? Optional.empty() : Optional.of(MetaKeys.decodeLong(p));
    }

    /** The head's modification sequence number as of this view. */
    public long modificationSeq() {
        byte[] p = get(database.meta, MetaKeys.MOD_SEQ, "the head's modification sequence");
        return p == null ? 0 : MetaKeys.decodeLong(p);
    }

    /**
     * The modification sequence through which the head's change tracking was cleared as of this
     * view: every key changed after it is in {@link #dirtyDocuments} or its namespace is
     * {@link #namespaceDirty}, so a delta may build on a snapshot of this incarnation whose
     * {@link #modificationSeq()} is not before it.
     */
    public long dirtyClearedThrough() {
        byte[] p = get(database.meta, MetaKeys.DIRTY_CLEARED, "the head's change tracking");
        return p == null ? Long.MAX_VALUE : MetaKeys.decodeLong(p);
    }

    /** Whether the namespace must be stored whole: its catalog entry changed, or it was cleared or bulk-loaded. */
    public boolean namespaceDirty(int nsId) {
        return get(database.dirty, DirtyKeys.namespaceMark(nsId), "the namespace's change mark") != null;
    }

    /**
     * Up to {@code max} document keys of the namespace changed since the change tracking was
     * last cleared, after {@code after} (null: the first), with their documents as of this view.
     */
    public DirtyPage dirtyDocuments(int nsId, byte[] after, int max) {
        try (LeaseGate.Lease l = gate.acquire()) {
            return DirtyKeys.page(db, database, snapshot, readOptions, nsId, after, max);
        } catch (RocksDBException e) {
            throw new HeadException("cannot read the namespace's changed documents", e);
        }
    }

    /** The incarnation of the head this view was taken from. */
    public String incarnation() {
        return head.incarnation();
    }

    /** The oplog position this view reflects. */
    public OpTime position() {
        return position;
    }

    /** The election term of the entry at {@link #position()} ({@code -1} when unknown). */
    public long term() {
        return term;
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
        byte[] v = get(database.docs, DocumentKeys.key(nsId, id), "a document");
        return v == null ? Optional.empty() : Optional.of(new RawBsonDocument(v));
    }

    private byte[] get(org.rocksdb.ColumnFamilyHandle cf, byte[] key, String what) {
        try (LeaseGate.Lease l = gate.acquire()) {
            return db.get(cf, readOptions, key);
        } catch (RocksDBException e) {
            throw new HeadException("cannot read " + what, e);
        }
    }

    /** The documents of a namespace in key order, which is MongoDB's _id order ({@link DocumentKeys}). */
    public DocumentCursor documents(NamespaceEntry ns) {
        return documents(ns.id());
    }

    /** @throws HeadClosedException the view (or its head) is closed */
    public DocumentCursor documents(int nsId) {
        try (LeaseGate.Lease l = gate.acquire()) {
            DocumentCursor c = new DocumentCursor(nsId);
            // Registered under the lease: a close that has drained the leases sees every cursor.
            cursors.add(c);
            return c;
        }
    }

    @Override
    public void close() {
        closeAndReport();
    }

    /** Closes the view; false if a reader kept it past the wait and its native objects were left. */
    boolean closeAndReport() {
        boolean drained = gate.close(this::freeAll);
        head.viewClosed(this);
        return drained && !leaked;
    }

    private void freeAll() {
        for (DocumentCursor c : new ArrayList<>(cursors)) {
            if (!c.gate.close(c::free)) {
                leaked = true;
            }
        }
        if (!leaked) {
            free();
        }
    }

    private void free() {
        readOptions.close();
        db.releaseSnapshot(snapshot);
        snapshot.close();
    }

    /**
     * Iterates one namespace's documents; must be closed (it holds a native iterator). Every step
     * holds the cursor's lease, so closing it, its view or its head from another thread waits for
     * the step in progress, and the next step fails with {@link HeadClosedException}.
     */
    public final class DocumentCursor implements java.util.Iterator<RawBsonDocument>, AutoCloseable {
        private final LeaseGate gate;
        private final Slice upper;
        private final ReadOptions options;
        private final RocksIterator it;
        /** The document {@link #readBytes} could not fit whole, and how much of it is read. */
        private byte[] split;
        private int splitPos;
        private long documentsRead;

        private DocumentCursor(int nsId) {
            gate = new LeaseGate("a cursor of the head at " + database.directory());
            upper = new Slice(DocumentKeys.upperBound(nsId));
            options = new ReadOptions().setSnapshot(snapshot).setIterateUpperBound(upper).setFillCache(false);
            it = db.newIterator(database.docs, options);
            it.seek(DocumentKeys.prefix(nsId));
        }

        /** @throws HeadClosedException the cursor, its view or its head was closed */
        @Override
        public boolean hasNext() {
            try (LeaseGate.Lease l = gate.acquire()) {
                return valid();
            }
        }

        private boolean valid() {
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
            try (LeaseGate.Lease l = gate.acquire()) {
                if (!valid()) {
                    throw new NoSuchElementException();
                }
                byte[] v = it.value();
                it.next();
                return v;
            }
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
         *
         * @throws HeadClosedException the cursor, its view or its head was closed: unlike a
         *         plain end of documents, never a silently short namespace
         */
        public int readBytes(byte[] b, int off, int len) {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            try (LeaseGate.Lease l = gate.acquire()) {
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
                while (n < len && valid()) {
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
        }

        /** Documents started by {@link #readBytes} so far (a split one counts when its first part is read). */
        public long documentsRead() {
            return documentsRead;
        }

        /** Waits for a step in progress on another thread, then frees the iterator. */
        @Override
        public void close() {
            gate.close(this::free);
        }

        private void free() {
            it.close();
            options.close();
            upper.close();
            cursors.remove(this);
        }
    }
}
