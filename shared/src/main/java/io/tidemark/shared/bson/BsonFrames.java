package io.tidemark.shared.bson;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a body made of concatenated BSON documents (the agent protocol's framing) into
 * document frames, validating every document completely so malformed input is rejected before
 * anything is stored.
 */
public final class BsonFrames {

    /** MongoDB accepts oplog entries slightly above the 16 MiB document limit. */
    public static final int MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 + 16 * 1024;

    private BsonFrames() {
    }

    /** A document's place inside the body. */
    public record Frame(int offset, int length) {
    }

    public static List<Frame> split(byte[] body) {
        return split(body, 0, body.length);
    }

    public static List<Frame> split(byte[] body, int from, int to) {
        List<Frame> frames = new ArrayList<>();
        int pos = from;
        while (pos < to) {
            if (to - pos < 5) {
                throw new MalformedBsonException("truncated document at byte " + pos);
            }
            int len = Bson.readInt(body, pos);
            if (len < 5 || len > MAX_DOCUMENT_BYTES || len > to - pos) {
                throw new MalformedBsonException("document at byte " + pos + " declares length " + len
                        + " but " + (to - pos) + " bytes remain");
            }
            BsonValidator.validateDocument(body, pos, len);
            frames.add(new Frame(pos, len));
            pos += len;
        }
        return frames;
    }
}
