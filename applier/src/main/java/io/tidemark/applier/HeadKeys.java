package io.tidemark.applier;

import io.tidemark.shared.bson.BsonCursor;
import java.util.Arrays;

/**
 * Head key order for readers outside the head (restores merging delta chains): the key of a raw
 * document, computed only through {@link DocumentKeys}, and the comparison of keys regardless of
 * the namespace id they were cut under.
 */
public final class HeadKeys {
    private static final int NS_PREFIX = DocumentKeys.prefix(0).length;

    private HeadKeys() {
    }

    /** The head key (in namespace 0) of the document whose raw BSON starts at {@code offset}. */
    public static byte[] ofDocument(byte[] buf, int offset) {
        BsonCursor c = new BsonCursor();
        if (!c.find(buf, offset, "_id")) {
            throw new IllegalArgumentException("document without _id");
        }
        return DocumentKeys.key(0, c.type, buf, c.valueStart, c.valueLength);
    }

    /** Compares two head keys by what follows their namespace ids: the order a head's cursor yields. */
    public static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, NS_PREFIX, a.length, b, NS_PREFIX, b.length);
    }

    /** The head key encoding of this build. */
    public static int encoding() {
        return DocumentKeys.ENCODING;
    }
}
