package io.tidemark.restore;

import io.tidemark.restore.archive.ArchiveEncoder;
import io.tidemark.restore.archive.Namespace;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Finds the document boundaries in one namespace's stream of raw BSON and accounts every
 * document with the archive encoder (framing check, CRC), while the bytes themselves pass through
 * untouched.
 *
 * <p>A restore source cuts its stream wherever its blocks end, so a document may start in one
 * buffer and end in the next. Inside a namespace's segment the archive is nothing but the
 * documents end to end, which is exactly the source's stream: so each buffer is forwarded as it
 * is (no copy on the hot path), and only a document that straddles a boundary is assembled in a
 * carry buffer, for the encoder to see it whole. A stream that ends inside a document, or
 * carries a length no BSON document can have, fails here, and the archive with it: the
 * download is aborted rather than finished with a wrong CRC or a torn document.
 *
 * <p>Not thread-safe: one framer serves one namespace of one pipeline, in order.
 */
final class SegmentFramer {

    private final ArchiveEncoder encoder;
    private final Namespace namespace;
    private final byte[] lengthPrefix = new byte[4];
    private int prefixHave;
    private byte[] carry;
    private int carryHave;
    private long offset;

    SegmentFramer(ArchiveEncoder encoder, Namespace namespace) {
        this.encoder = encoder;
        this.namespace = namespace;
    }

    /**
     * Accounts the documents that end in {@code buffer} and returns it unchanged (position and
     * limit as given): these are the bytes to write.
     */
    ByteBuffer accept(ByteBuffer buffer) {
        ByteBuffer in = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (prefixHave > 0 || carry != null) {
            continueCarried(in);
        }
        while (in.remaining() >= 4) {
            int start = in.position();
            int length = in.getInt(start);
            checkLength(length, offset + (start - buffer.position()));
            if (length > in.remaining()) {
                break;
            }
            if (in.hasArray()) {
                encoder.document(in.array(), in.arrayOffset() + start, length);
            } else {
                encoder.document(in.duplicate().position(start).limit(start + length));
            }
            in.position(start + length);
        }
        if (in.hasRemaining()) {
            startCarry(in);
        }
        offset += buffer.remaining();
        return buffer;
    }

    /** Fails when the namespace's stream stopped inside a document. */
    void finish() {
        if (prefixHave > 0 || carry != null) {
            int need = carry != null ? carry.length : -1;
            throw new IllegalStateException("the data of " + namespace + " ends inside a document: "
                    + (carry != null ? carryHave : prefixHave) + " bytes of " + (need < 0 ? "a length prefix" : need + " bytes")
                    + " at the end of " + offset + " bytes");
        }
    }

    private void startCarry(ByteBuffer in) {
        if (in.remaining() < 4) {
            prefixHave = in.remaining();
            in.get(lengthPrefix, 0, prefixHave);
            return;
        }
        int length = in.getInt(in.position()); // checked by the loop in accept()
        carry = new byte[length];
        carryHave = in.remaining();
        in.get(carry, 0, carryHave);
    }

    private void continueCarried(ByteBuffer in) {
        if (carry == null) {
            int take = Math.min(4 - prefixHave, in.remaining());
            in.get(lengthPrefix, prefixHave, take);
            prefixHave += take;
            if (prefixHave < 4) {
                return;
            }
            int length = ByteBuffer.wrap(lengthPrefix).order(ByteOrder.LITTLE_ENDIAN).getInt();
            checkLength(length, offset - (prefixHave - take));
            carry = new byte[length];
            System.arraycopy(lengthPrefix, 0, carry, 0, 4);
            carryHave = 4;
            prefixHave = 0;
        }
        int take = Math.min(carry.length - carryHave, in.remaining());
        in.get(carry, carryHave, take);
        carryHave += take;
        if (carryHave == carry.length) {
            encoder.document(carry, 0, carry.length);
            carry = null;
            carryHave = 0;
        }
    }

    private void checkLength(int length, long at) {
        if (length < 5 || length > ArchiveEncoder.MAX_BSON_SIZE) {
            throw new IllegalStateException("the data of " + namespace + " is not BSON at byte " + at
                    + ": a document length of " + length);
        }
    }
}
