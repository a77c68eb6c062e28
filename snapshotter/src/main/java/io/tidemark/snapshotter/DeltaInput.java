package io.tidemark.snapshotter;

import io.tidemark.applier.DirtyPage;
import io.tidemark.applier.HeadClosedException;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.shared.snapshots.DeltaRecords;
import java.io.IOException;
import java.io.InputStream;

/**
 * One namespace's changes since the head's change tracking was last cleared, as the byte stream
 * of a delta namespace ({@link DeltaRecords}): for each changed key in key order, the document as
 * the view sees it or, if the view has none, a delete. Reads a page of keys at a time, so memory
 * is bounded by a page whatever the number of changes; the time follows the number of changes,
 * not the size of the namespace.
 */
final class DeltaInput extends InputStream {
    /** Keys read (and documents fetched in one multiGet) per page. */
    private static final int PAGE_KEYS = 1024;

    private final HeadView view;
    private final NamespaceEntry namespace;
    private byte[] buf = new byte[0];
    private int pos;
    private int limit;
    private byte[] after;
    private boolean ended;
    private long upserts;
    private long deletes;
    /** Bytes handed out in earlier pages: the stream offset of this page's first byte. */
    private long pageBase;
    private final RecordStarts starts = new RecordStarts();

    DeltaInput(HeadView view, NamespaceEntry namespace) {
        this.view = view;
        this.namespace = namespace;
    }

    /** The key index of the blocks cut from this stream. */
    RecordStarts starts() {
        return starts;
    }

    long upserts() {
        return upserts;
    }

    long deletes() {
        return deletes;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pos == limit) {
            if (ended || !nextPage()) {
                ended = true;
                return -1;
            }
        }
        int n = Math.min(len, limit - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
    }

    private boolean nextPage() throws IOException {
        DirtyPage page;
        try {
            page = view.dirtyDocuments(namespace.id(), after, PAGE_KEYS);
        } catch (HeadClosedException e) {
            throw new IOException("the head view of " + namespace.ns() + " was closed during the snapshot", e);
        }
        if (page.isEmpty()) {
            return false;
        }
        int size = 0;
        for (int i = 0; i < page.keys().size(); i++) {
            byte[] d = page.documents().get(i);
            size += DeltaRecords.HEADER_BYTES + page.keys().get(i).length + (d == null ? 0 : d.length);
        }
        if (buf.length < size) {
            buf = new byte[size];
        }
        pageBase += limit;
        int at = 0;
        for (int i = 0; i < page.keys().size(); i++) {
            byte[] k = page.keys().get(i);
            byte[] d = page.documents().get(i);
            starts.add(pageBase + at, k);
            DeltaRecords.writeHeader(buf, at, d == null ? DeltaRecords.DELETE : DeltaRecords.UPSERT, k.length);
            at += DeltaRecords.HEADER_BYTES;
            System.arraycopy(k, 0, buf, at, k.length);
            at += k.length;
            if (d == null) {
                deletes++;
            } else {
                System.arraycopy(d, 0, buf, at, d.length);
                at += d.length;
                upserts++;
            }
        }
        pos = 0;
        limit = at;
        after = page.lastKey();
        return true;
    }
}
