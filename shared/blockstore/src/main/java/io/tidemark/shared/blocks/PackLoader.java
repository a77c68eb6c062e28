package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import io.tidemark.shared.blocks.PackIndex.Loc;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opening a {@link PackBlockStore}: loads every pack's records into the index (from its index
 * file, or its journal and {@link PackRecovery} for what neither describes), drops files a crash
 * left behind, holds blocks the {@link Quarantine} names as corrupt, and finds the pack that goes
 * on taking records. Runs once, on the I/O scheduler, with the store's lock held.
 */
final class PackLoader {

    private static final Logger LOG = LoggerFactory.getLogger(PackLoader.class);

    /** Where writing goes on: the next pack number, and the newest pack if it still takes records (or null). */
    record Loaded(int nextSeq, Pack active) {
    }

    private final Path root;
    private final Path packsDir;
    private final long packBytes;
    private final Map<Integer, Pack> packs;
    private final PackIndex index;
    private final Quarantine quarantine;
    private final PackReclaimer reclaimer;

    PackLoader(Path root, Path packsDir, long packBytes, Map<Integer, Pack> packs, PackIndex index,
               Quarantine quarantine, PackReclaimer reclaimer) {
        this.root = root;
        this.packsDir = packsDir;
        this.packBytes = packBytes;
        this.packs = packs;
        this.index = index;
        this.quarantine = quarantine;
        this.reclaimer = reclaimer;
    }

    /** Loads the store; the caller holds the store's lock and its {@link PackLock}. */
    Loaded load() throws IOException {
        Pack[] active = new Pack[1];
        quarantine.load();
        TreeMap<Integer, Path> packFiles = new TreeMap<>();
        List<Path> sideFiles = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(packsDir)) {
            for (Path f : entries) {
                String name = f.getFileName().toString();
                if (name.endsWith(PackFormat.TEMP_SUFFIX)) {
                    Files.deleteIfExists(f); // an index or journal rewrite a crash cut short
                } else if (PackFormat.seqOf(name, PackFormat.PACK_SUFFIX) > 0) {
                    packFiles.put(PackFormat.seqOf(name, PackFormat.PACK_SUFFIX), f);
                } else if (PackFormat.seqOf(name, PackFormat.INDEX_SUFFIX) > 0
                        || PackFormat.seqOf(name, PackFormat.JOURNAL_SUFFIX) > 0) {
                    sideFiles.add(f);
                }
            }
        }
        for (Path f : sideFiles) {
            String name = f.getFileName().toString();
            int seq = Math.max(PackFormat.seqOf(name, PackFormat.INDEX_SUFFIX),
                    PackFormat.seqOf(name, PackFormat.JOURNAL_SUFFIX));
            if (!packFiles.containsKey(seq)) {
                Files.deleteIfExists(f); // its pack was reclaimed: it describes no data
            }
        }
        List<Quarantine.CorruptRecord> found = new ArrayList<>(quarantine.corruptRecords());
        int scanned = 0;
        for (Map.Entry<Integer, Path> f : packFiles.entrySet()) {
            scanned += load(f.getKey(), f.getValue(), f.getKey().equals(packFiles.lastKey()), found, active) ? 1 : 0;
        }
        for (Quarantine.CorruptRecord c : found) {
            Loc loc = index.get(c.block());
            if (loc != null && loc.pack() == c.pack() && loc.offset() == c.offset()) {
                index.holdCorrupt(c.block(), loc, "its record at " + c.offset() + " of "
                        + PackFormat.packName(c.pack()) + " is damaged (see " + quarantine.dir() + ")");
            }
        }
        packs.values().forEach(reclaimer::markIfDue);
        LOG.info("block store {}: {} blocks, {} stored bytes in {} packs ({} scanned), {} blocks quarantined as corrupt",
                root, index.size(), index.storedBytes(), packs.size(), scanned, index.corruptCount());
        return new Loaded(packFiles.isEmpty() ? 1 : packFiles.lastKey() + 1, active[0]);
    }


    /**
     * Loads one pack's records into the index, from its index file, or from its journal and a
     * scan of what the journal does not cover; returns whether any of it was scanned. The newest
     * pack goes on taking records if it has room; any other is sealed. Damaged records found are
     * added to {@code corruptFound}.
     */
    private boolean load(int seq, Path path, boolean newest, List<Quarantine.CorruptRecord> corruptFound, Pack[] active)
            throws IOException {
        Pack p = new Pack(seq, path);
        p.length = Files.size(path);
        Path indexFile = packsDir.resolve(PackFormat.indexName(seq));
        Path journalFile = packsDir.resolve(PackFormat.journalName(seq));
        List<Header> headers = PackFormat.readIndex(indexFile, seq, p.length);
        boolean scanned = false;
        if (headers != null) {
            Files.deleteIfExists(journalFile); // superseded by the index written after it
            p.sealed = true;
        } else {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            p.channel = ch;
            PackRecovery.Recovered r = new PackRecovery(quarantine, seq, p.path, ch, p.length)
                    .recover(indexFile, journalFile, corruptFound);
            headers = r.headers();
            scanned = r.scanned();
            p.length = r.length();
            if (p.length == 0 && !newest) {
                // a pack started just before a crash, with nothing (acknowledged) in it
                ch.close();
                Files.delete(path);
                Files.deleteIfExists(journalFile);
                return true;
            }
            if (newest && p.length < packBytes && !r.wasSealed()) {
                p.records = new ArrayList<>(headers);
                if (r.journalStale()) {
                    PackJournal.rewrite(packsDir, seq, headers);
                }
                p.journal = PackJournal.open(journalFile);
                p.journaled = headers.size();
                active[0] = p;
            } else {
                PackFormat.writeIndex(packsDir, seq, p.length, headers);
                Files.deleteIfExists(journalFile);
                p.sealed = true;
            }
        }
        packs.put(seq, p);
        for (Header h : headers) {
            if (h.block()) {
                index.put(h.id(), new Loc(seq, h.offset(), h.storedLength(), h.uncompressedLength(), h.writtenAt()));
            } else {
                // Cancels the block's record in that pack or an older one, never a newer record.
                index.cancel(h.id(), h.cancels());
            }
        }
        return scanned;
    }
}
