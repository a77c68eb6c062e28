package io.tidemark.restore.pit;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonFrames;

import java.nio.ByteBuffer;

/**
 * Cuts a stream of raw BSON documents laid end to end, delivered in pieces whose boundaries fall
 * anywhere (snapshot blocks are cut by content, restore sources emit ~1 MB buffers), back into
 * whole documents. A document inside one piece is handed over in place, without a copy; only a
 * document that straddles pieces is assembled in a buffer of its own, so memory is one document
 * at most beyond the piece being read.
 *
 * <p>What it reads was written by Tidemark itself (and verified against block hashes), so a
 * malformed length is corruption, reported as an {@link IllegalStateException}, never a client error.
 *
 * <p>Not thread-safe: one framer per stream, fed from one thread at a time.
 */
public final class DocumentFramer {

    /** Receives each whole document as a range of a buffer that is only valid during the call. */
    @FunctionalInterface
    public interface Sink {
        void document(byte[] buffer, int offset, int length);
    }

    private final Sink sink;
    /** The start of a document that continues in the next piece: its first 4 bytes, then the whole of it. */
    private byte[] partial;
    private int partialFilled;
    private final byte[] lengthBytes = new byte[4];
    private long documents;
    private long bytes;

    public DocumentFramer(Sink sink) {
        this.sink = sink;
    }

    public void feed(ByteBuffer piece) {
        if (piece.hasArray()) {
            feed(piece.array(), piece.arrayOffset() + piece.position(), piece.remaining());
        } else {
            byte[] copy = new byte[piece.remaining()];
            piece.duplicate().get(copy);
            feed(copy, 0, copy.length);
        }
    }

    public void feed(byte[] piece) {
        feed(piece, 0, piece.length);
    }

    public void feed(byte[] piece, int offset, int length) {
        int pos = offset;
        int end = offset + length;
        if (partialFilled > 0) {
            pos = continuePartial(piece, pos, end);
        }
        while (pos < end) {
            if (end - pos < 4) {
                startPartial(piece, pos, end);
                return;
            }
            int len = lengthAt(piece, pos);
            if (len > end - pos) {
                startPartial(piece, pos, end);
                return;
            }
            emit(piece, pos, len);
            pos += len;
        }
    }

    /** Checks that the stream ended on a document boundary. */
    public void finish() {
        if (partialFilled > 0) {
            throw new IllegalStateException("corrupt document stream: the stream ends inside a document (" + partialFilled + " bytes of it read)");
        }
    }

    public long documents() {
        return documents;
    }

    public long bytes() {
        return bytes;
    }

    private void startPartial(byte[] piece, int pos, int end) {
        int n = end - pos;
        if (n < 4) {
            System.arraycopy(piece, pos, lengthBytes, 0, n);
            partial = null;
        } else {
            partial = new byte[lengthAt(piece, pos)];
            System.arraycopy(piece, pos, partial, 0, n);
        }
        partialFilled = n;
    }

    /** Completes the straddling document from the new piece; returns where the piece's own documents start. */
    private int continuePartial(byte[] piece, int pos, int end) {
        if (partial == null) {
            // Not even the length was complete: take the rest of it first.
            int need = Math.min(4 - partialFilled, end - pos);
            System.arraycopy(piece, pos, lengthBytes, partialFilled, need);
            partialFilled += need;
            pos += need;
            if (partialFilled < 4) {
                return pos;
            }
            partial = new byte[lengthAt(lengthBytes, 0)];
            System.arraycopy(lengthBytes, 0, partial, 0, 4);
        }
        int need = Math.min(partial.length - partialFilled, end - pos);
        System.arraycopy(piece, pos, partial, partialFilled, need);
        partialFilled += need;
        pos += need;
        if (partialFilled == partial.length) {
            byte[] whole = partial;
            partial = null;
            partialFilled = 0;
            emit(whole, 0, whole.length);
        }
        return pos;
    }

    private void emit(byte[] buf, int offset, int length) {
        if (buf[offset + length - 1] != 0) {
            throw new IllegalStateException("corrupt document stream: document at stream offset " + bytes + " does not end with a zero byte");
        }
        documents++;
        bytes += length;
        sink.document(buf, offset, length);
    }

    private int lengthAt(byte[] buf, int pos) {
        int len = Bson.readInt(buf, pos);
        if (len < 5 || len > BsonFrames.MAX_DOCUMENT_BYTES) {
            throw new IllegalStateException("corrupt document stream: document at stream offset " + bytes + " declares length " + len);
        }
        return len;
    }
}
