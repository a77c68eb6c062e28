package io.tidemark.applier;

import io.tidemark.shared.bson.BsonCursor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.EnvOptions;
import org.rocksdb.IngestExternalFileOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDBException;
import org.rocksdb.SstFileWriter;
import org.rocksdb.WriteBatch;

/**
 * Loads the documents of an empty namespace that arrive in head key order (a snapshot's, whose
 * blocks hold them in that order) by writing sorted table files next to the head and ingesting
 * them into the documents' column family: no write-ahead log, no memtable, no compaction of the
 * load, no existence read per document, which is what a write batch load pays. A document out of
 * order (or twice) fails the load. Files are cut at {@link #FILE_BYTES}, so memory is a block's
 * worth whatever the namespace's size.
 */
@SuppressWarnings("try") // leases are held for their try block, never referenced in it
public final class SortedLoader implements DocumentLoader {
    static final long FILE_BYTES = 256L << 20;

    private final Head head;
    private final HeadDatabase database;
    private final int nsId;
    private final Path dir;
    private final List<Path> files = new ArrayList<>();
    private final EnvOptions env = new EnvOptions();
    private final DBOptions dbOptions = new DBOptions();
    private final Options options;
    private SstFileWriter writer;
    private long fileBytes;
    private byte[] last;
    private long added;
    private boolean finished;

    SortedLoader(Head head, HeadDatabase database, int nsId) {
        this.head = head;
        this.database = database;
        this.nsId = nsId;
        this.dir = database.directory().resolve("ingest-" + nsId);
        // The documents' table format (block size, filters, block hash index), LZ4 as their cold levels.
        this.options = new Options(dbOptions, database.docsOptions()).setCompressionType(CompressionType.LZ4_COMPRESSION);
        if (head.documentCount(nsId) != 0) {
            close();
            throw new IllegalStateException("a sorted load needs an empty namespace; " + nsId + " holds documents");
        }
        try {
            io.tidemark.shared.util.Directories.deleteTree(dir);
            Files.createDirectories(dir);
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void add(byte[] buf, int offset, int length) {
        BsonCursor c = new BsonCursor();
        if (!c.find(buf, offset, "_id")) {
            throw new IllegalArgumentException("document without _id");
        }
        byte[] key = DocumentKeys.key(nsId, c.type, buf, c.valueStart, c.valueLength);
        if (last != null && Arrays.compareUnsigned(last, key) >= 0) {
            throw new IllegalArgumentException("documents out of head key order in a sorted load of namespace " + nsId);
        }
        try {
            if (writer == null) {
                Path file = dir.resolve(files.size() + ".sst");
                writer = new SstFileWriter(env, options);
                writer.open(file.toString());
                files.add(file);
                fileBytes = 0;
            }
            writer.put(key, Arrays.copyOfRange(buf, offset, offset + length));
        } catch (RocksDBException e) {
            throw new HeadException("sorted load failed", e);
        }
        last = key;
        added++;
        fileBytes += key.length + length;
        if (fileBytes >= FILE_BYTES) {
            closeFile();
        }
    }

    private void closeFile() {
        try {
            writer.finish();
        } catch (RocksDBException e) {
            throw new HeadException("sorted load failed", e);
        } finally {
            writer.close();
            writer = null;
        }
    }

    @Override
    public long finish() {
        if (finished) {
            return added;
        }
        if (writer != null) {
            closeFile();
        }
        try (LeaseGate.Lease l = database.gate().acquire();
             IngestExternalFileOptions ingest = new IngestExternalFileOptions().setMoveFiles(true);
             WriteBatch wb = new WriteBatch()) {
            if (!files.isEmpty()) {
                database.db().ingestExternalFile(database.docs, files.stream().map(Path::toString).toList(), ingest);
            }
            BulkLoader.commitLoad(head, database, wb, nsId, added, true);
        } catch (RocksDBException e) {
            throw new HeadException("sorted load failed", e);
        }
        finished = true;
        io.tidemark.shared.util.Directories.deleteTree(dir);
        return added;
    }

    @Override
    public void close() {
        if (writer != null) {
            writer.close();
            writer = null;
        }
        options.close();
        dbOptions.close();
        env.close();
        io.tidemark.shared.util.Directories.deleteTree(dir);
    }
}
