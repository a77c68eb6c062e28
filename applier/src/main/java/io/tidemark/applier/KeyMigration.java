package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import java.util.HashSet;
import java.util.Set;

import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Rewrites a head's documents from key encoding 1 to {@link DocumentKeys#ENCODING} when it opens,
 * in place and without a resync.
 *
 * <p>Encoding-1 documents live in the column family {@code docs}, encoding-2 ones in {@code
 * docs.v2} (a family per encoding, because the two layouts cannot be told apart key by key). The
 * migration copies {@code docs} into {@code docs.v2} in batches; each batch holds its documents
 * and the last old key copied ({@link #PROGRESS}) in one atomic write, so after a crash (kill -9
 * included) the copied documents and the marker agree, and reopening resumes after the marker
 * (copies are idempotent puts, so even a lost unsynced tail is only copied again). The end is one
 * synced write: {@link MetaKeys#KEY_ENCODING} = 2, the marker removed, and every namespace stamped as
 * modified, so the next snapshot re-reads every namespace in the new order (manifests and delta
 * chains never mix two encodings). Only then is {@code docs} dropped; a crash before the drop
 * leaves a head marked 2 whose stale family is dropped at the next open. Until the end is
 * written, nothing but this migration reads the head.
 */
final class KeyMigration {
    static final String LEGACY_FAMILY = "docs";
    static final String FAMILY = "docs.v2";
    /** Meta: the last encoding-1 key copied by an unfinished migration. */
    static final byte[] PROGRESS = Bson.utf8("keyMigration/last");
    /** Bytes of documents per batch: bounded memory whatever the head's size. */
    static final long BATCH_BYTES = 4L << 20;

    /** Test hook: runs after each committed batch (a test throws from it to stop a migration midway). */
    static volatile Runnable afterBatch = () -> { };
    /** Test hook: the batch size in bytes. */
    static volatile long batchBytes = BATCH_BYTES;

    private KeyMigration() {
    }

    /**
     * Brings the head to the current encoding: copies what remains of {@code legacy} (null when the
     * head has no encoding-1 family) and drops it. Blocking; runs before the head serves anything.
     *
     * @return documents copied by this call
     */
    static long run(RocksDB db, ColumnFamilyHandle legacy, ColumnFamilyHandle docs, ColumnFamilyHandle meta,
                    ColumnFamilyHandle catalog) throws RocksDBException {
        byte[] recorded = db.get(meta, MetaKeys.KEY_ENCODING);
        if (decode(recorded) > DocumentKeys.ENCODING) {
            throw new HeadException("the head's key encoding " + decode(recorded) + " is newer than this build's ("
                    + DocumentKeys.ENCODING + "); run a newer Tidemark", null);
        }
        if (legacy == null) {
            if (recorded == null) {
                db.put(meta, MetaKeys.KEY_ENCODING, MetaKeys.encodeLong(DocumentKeys.ENCODING));
            }
            return 0;
        }
        long copied = 0;
        if (recorded == null) {
            copied = copy(db, legacy, docs, meta);
            finish(db, meta, catalog);
        }
        db.dropColumnFamily(legacy);
        return copied;
    }

    private static long copy(RocksDB db, ColumnFamilyHandle legacy, ColumnFamilyHandle docs, ColumnFamilyHandle meta)
            throws RocksDBException {
        long copied = 0;
        byte[] last = db.get(meta, PROGRESS);
        try (WriteOptions write = new WriteOptions().setSync(false);
             RocksIterator it = db.newIterator(legacy)) {
            if (last == null) {
                it.seekToFirst();
            } else {
                it.seek(last);
                if (it.isValid() && java.util.Arrays.equals(it.key(), last)) {
                    it.next();
                }
            }
            while (it.isValid()) {
                long bytes = 0;
                byte[] key = null;
                try (WriteBatch wb = new WriteBatch()) {
                    for (; it.isValid() && bytes < batchBytes; it.next()) {
                        key = it.key();
                        byte[] value = it.value();
                        wb.put(docs, DocumentKeys.fromEncoding1(key), value);
                        bytes += key.length + value.length;
                        copied++;
                    }
                    wb.put(meta, PROGRESS, key);
                    db.write(write, wb);
                }
                afterBatch.run();
            }
            it.status();
        }
        return copied;
    }

    /** Records the new encoding and stamps every namespace modified, in one durable write. */
    private static void finish(RocksDB db, ColumnFamilyHandle meta, ColumnFamilyHandle catalog) throws RocksDBException {
        byte[] seqBytes = db.get(meta, MetaKeys.MOD_SEQ);
        byte[] seq = MetaKeys.encodeLong((seqBytes == null ? 0 : MetaKeys.decodeLong(seqBytes)) + 1);
        Set<Integer> nsIds = new HashSet<>();
        try (RocksIterator it = db.newIterator(catalog)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                nsIds.add(java.nio.ByteBuffer.wrap(it.key()).getInt());
            }
            it.status();
        }
        try (WriteOptions sync = new WriteOptions().setSync(true); WriteBatch wb = new WriteBatch()) {
            for (int nsId : nsIds) {
                wb.put(meta, MetaKeys.modified(nsId), seq);
            }
            wb.put(meta, MetaKeys.MOD_SEQ, seq);
            wb.delete(meta, PROGRESS);
            wb.put(meta, MetaKeys.KEY_ENCODING, MetaKeys.encodeLong(DocumentKeys.ENCODING));
            db.write(sync, wb);
        }
    }

    /** The encoding a head records, as {@link MetaKeys#KEY_ENCODING} stores it. */
    static int decode(byte[] recorded) {
        return recorded == null ? 1 : (int) MetaKeys.decodeLong(recorded);
    }
}
