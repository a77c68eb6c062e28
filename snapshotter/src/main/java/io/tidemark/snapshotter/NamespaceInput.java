package io.tidemark.snapshotter;

import io.tidemark.applier.HeadClosedException;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import java.io.IOException;
import java.io.InputStream;

/**
 * One namespace of a head view as a byte stream: its documents' raw BSON, concatenated in key
 * order, which is what the chunker cuts and what a restore reads back document by document.
 *
 * <p>A view closed from another thread (a cancelled snapshot, the applier closing the head)
 * waits for a read in progress, and the next read fails with {@link HeadClosedException}: a
 * view closed before the end is reported as an error, not as a short namespace.
 */
final class NamespaceInput extends InputStream {

    private final HeadView view;
    private final NamespaceEntry namespace;
    private volatile HeadView.DocumentCursor cursor;
    private long documents;
    private boolean ended;
    private final RecordStarts starts = new RecordStarts();

    NamespaceInput(HeadView view, NamespaceEntry namespace) {
        this.view = view;
        this.namespace = namespace;
    }

    /** The key index of the blocks cut from this stream. */
    RecordStarts starts() {
        return starts;
    }

    /** Documents read so far; all of them once the stream has ended. */
    long documents() {
        return documents;
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
        if (ended) {
            return -1;
        }
        try {
            if (cursor == null) {
                cursor = view.documents(namespace);
            }
            // Whole documents straight into the caller's buffer (the block writer's read
            // buffer): no array per document and no second copy.
            int n = cursor.readBytes(b, off, len);
            documents = cursor.documentsRead();
            if (n >= 0) {
                starts.scan(b, off, n);
                return n;
            }
        } catch (HeadClosedException e) {
            throw new IOException("the head view of " + namespace.ns() + " was closed during the snapshot", e);
        }
        ended = true;
        return -1;
    }

    @Override
    public void close() {
        if (cursor != null) {
            cursor.close();
        }
    }
}
