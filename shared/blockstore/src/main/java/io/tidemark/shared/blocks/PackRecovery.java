package io.tidemark.shared.blocks;

import io.tidemark.shared.blocks.PackFormat.Header;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Rebuilds the record list of a pack that has no usable index file: from its journal where there
 * is one, scanning only what the journal does not describe, or by scanning it whole.
 *
 * <p>What may be cut off is decided by the acknowledged position: the end of the journal (every
 * answered put is journaled), all of a pack that had an index (it was sealed, so complete), or,
 * for a pack written before journals existed, unknown. Bytes past the acknowledged position that
 * do not hold intact records were never acknowledged: a write a crash cut short, truncated (and
 * logged). Damage before it is bit rot, a bad sector or a stray write: the damaged stretch is
 * logged in the quarantine, the block its intact header names (if any) is held as corrupt, the
 * scan goes on with the next intact record, and nothing is removed. With the position unknown,
 * only a damaged tail is cut, and its bytes are copied into the quarantine first.
 */
final class PackRecovery {

    /**
     * The pack's records by offset (damaged ones whose header is intact included), its length
     * after any cut, whether anything was scanned, whether it had been sealed, and whether its
     * journal must be rewritten to match.
     */
    record Recovered(List<Header> headers, long length, boolean scanned, boolean wasSealed, boolean journalStale) {
    }

    private final Quarantine quarantine;
    private final int seq;
    private final Path pack;
    private final FileChannel ch;
    private final PackScan scan;
    private long length;

    PackRecovery(Quarantine quarantine, int seq, Path pack, FileChannel ch, long length) {
        this.quarantine = quarantine;
        this.seq = seq;
        this.pack = pack;
        this.ch = ch;
        this.scan = new PackScan(ch);
        this.length = length;
    }

    Recovered recover(Path indexFile, Path journalFile, List<Quarantine.CorruptRecord> corruptFound)
            throws IOException {
        boolean sealed = Files.exists(indexFile);
        if (sealed) {
            long size = Files.size(indexFile);
            Path kept = quarantine.keep(indexFile, true);
            quarantine.record(Quarantine.DAMAGED_INDEX, indexFile, 0, size, null, "the index file is damaged or does "
                    + "not describe its pack of " + length + " bytes; kept as " + kept + ", the pack is scanned instead");
        }
        PackJournal.Contents journal = PackJournal.read(journalFile, length);
        if (journal != null && journal.damaged() > 0) {
            Path kept = quarantine.keep(journalFile, false);
            quarantine.record(Quarantine.DAMAGED_INDEX, journalFile, 0, Files.size(journalFile), null, journal.damaged()
                    + " damaged journal entries; the stretches of the pack they described are scanned; copy in " + kept);
        }
        long acknowledged = sealed ? length : journal != null ? journal.acknowledged() : -1;
        long trusted = acknowledged >= 0 ? acknowledged : length;
        List<Header> headers = new ArrayList<>();
        boolean scanned = false;
        long at = 0;
        for (Header h : journal == null ? List.<Header>of() : journal.headers()) {
            if (h.offset() > at) {
                // a stretch a damaged journal entry described
                scanned = true;
                at = scanKeeping(at, h.offset(), true, headers, corruptFound);
            }
            headers.add(h);
            at = h.end();
        }
        if (at < trusted) {
            scanned = true;
            at = scanKeeping(at, trusted, acknowledged >= 0, headers, corruptFound);
        }
        if (acknowledged >= 0 && at < length) {
            // Past the acknowledged position: intact records stay (they are durable now), the rest goes.
            scanned = true;
            PackScan.Result r = scan.scan(at, length, false);
            headers.addAll(r.headers());
            at = r.tail();
        }
        if (at < length) {
            cut(at, acknowledged >= 0);
        }
        headers.sort(Comparator.comparingLong(Header::offset));
        boolean stale = journal == null || journal.damaged() > 0 || journal.headers().size() != headers.size();
        return new Recovered(headers, length, scanned, sealed, stale);
    }

    /**
     * Scans {@code [from, to)} with resync, adding the intact records and quarantining the damage;
     * with {@code keepTail}, damage at the end of the stretch is quarantined too, otherwise it is
     * left for the caller to cut. Returns where the kept part ends.
     */
    private long scanKeeping(long from, long to, boolean keepTail, List<Header> headers,
                             List<Quarantine.CorruptRecord> corruptFound) throws IOException {
        PackScan.Result r = scan.scan(from, to, true);
        headers.addAll(r.headers());
        for (PackScan.Damage d : r.damage()) {
            quarantine(d, headers, corruptFound);
        }
        if (r.tail() < to && keepTail) {
            quarantine(new PackScan.Damage(r.tail(), to - r.tail(), scan.headerAt(r.tail(), to)), headers, corruptFound);
            return to;
        }
        return r.tail();
    }

    private void quarantine(PackScan.Damage d, List<Header> headers, List<Quarantine.CorruptRecord> corruptFound)
            throws IOException {
        Header h = d.header();
        if (h != null && h.block() && h.end() <= d.end()) {
            // Its header is intact, so the block is known: indexed, then held as corrupt.
            headers.add(h);
            corruptFound.add(new Quarantine.CorruptRecord(h.id(), seq, h.offset()));
            quarantine.record(Quarantine.CORRUPT_BLOCK, pack, d.offset(), d.length(), h.id(),
                    "the record's data does not match its checksum; left in place, the records after it are intact");
        } else {
            quarantine.record(Quarantine.DAMAGED_BYTES, pack, d.offset(), d.length(), h == null ? null : h.id(),
                    "no intact record in these bytes; left in place, the records after them are intact");
        }
    }

    /** Truncates a torn tail, logging it first, and copying its bytes when they might have been acknowledged. */
    private void cut(long at, boolean pastAcknowledged) throws IOException {
        String why;
        if (pastAcknowledged) {
            why = "past the last acknowledged record: a write a crash cut short; truncated";
        } else {
            Path copy = quarantine.copy(ch, pack, at, length - at);
            why = "after the last intact record of a pack without a journal: a write a crash cut short; truncated, "
                    + "bytes kept in " + copy;
        }
        quarantine.record(Quarantine.TORN_TAIL, pack, at, length - at, null, why);
        ch.truncate(at);
        ch.force(false);
        length = at;
    }
}
