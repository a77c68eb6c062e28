package io.tidemark.applier;

import io.tidemark.shared.bson.Bson;
import io.tidemark.shared.bson.BsonCursor;
import io.tidemark.shared.bson.BsonOut;
import java.util.Arrays;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

/**
 * What an update entry's {@code o} does to a document: a delta ({@code $v: 2}), a
 * {@code $set}/{@code $unset} update ({@code $v: 1}) or a full replacement. One implementation for
 * the head's apply path and for readers outside the head that replay one document's changes (a
 * document's history), so both read an update the same way.
 */
public final class DocumentUpdates {
    private final BsonCursor cursor = new BsonCursor();
    private final DeltaApplier delta;
    private final ModifierApplier modifier;
    private final boolean strict;

    DocumentUpdates(DeltaApplier delta, ModifierApplier modifier, boolean strict) {
        this.delta = delta;
        this.modifier = modifier;
        this.strict = strict;
    }

    /**
     * The document {@code existing} becomes under the update {@code o}, checked as strictly as a
     * head in steady state checks it.
     *
     * @throws IllegalArgumentException the update is malformed or does not fit the document
     */
    public static byte[] apply(byte[] existing, RawBsonDocument o) {
        var bb = o.getByteBuffer();
        try {
            return new DocumentUpdates(new DeltaApplier(), new ModifierApplier(), true).apply(existing, bb.array(), bb.position());
        } catch (EntryFailure e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The head key (in namespace 0) of an {@code _id} value; compare keys with {@link HeadKeys#compare}. */
    public static byte[] keyOf(BsonValue id) {
        return DocumentKeys.key(0, id);
    }

    /** The {@code _id} value a head key was made of, exactly. */
    public static BsonValue idOf(byte[] key) {
        return DocumentKeys.id(key);
    }

    byte[] apply(byte[] existing, byte[] buf, int o) {
        BsonCursor c = cursor.reset(buf, o);
        long version = -1;
        int diff = -1;
        boolean operators = false;
        while (c.next()) {
            if (c.nameIs("$v")) {
                version = c.integralValue();
            } else if (c.nameIs("diff")) {
                if (c.type != Bson.DOCUMENT) {
                    throw EntryFailure.unsupported("diff is not an object");
                }
                diff = c.valueStart;
            } else if (c.nameStartsWith('$')) {
                operators = true;
            }
        }
        if (version == 2) {
            if (diff < 0 || operators) {
                throw EntryFailure.unsupported("$v:2 update must be {$v: 2, diff: {...}}");
            }
            return delta.apply(existing, 0, buf, diff, strict);
        }
        if (version == 1) {
            return modifier.apply(existing, 0, buf, o, strict);
        }
        if (version != -1) {
            throw EntryFailure.unsupported("unknown update version $v: " + version);
        }
        if (operators) {
            throw EntryFailure.unsupported("update with operators but no $v");
        }
        return replacement(existing, buf, o);
    }

    private byte[] replacement(byte[] existing, byte[] buf, int o) {
        int len = Bson.readInt(buf, o);
        if (cursor.find(buf, o, "_id")) {
            return Arrays.copyOfRange(buf, o, o + len);
        }
        // A replacement without _id keeps the document's _id first, as MongoDB's update does.
        BsonCursor id = new BsonCursor();
        if (!id.find(existing, 0, "_id")) {
            throw EntryFailure.unsupported("replacement without _id");
        }
        BsonOut out = new BsonOut(len + id.elementLength() + 8);
        int at = out.startDocument();
        out.copy(existing, id.elementStart, id.elementLength());
        out.copy(buf, o + 4, len - 5);
        out.endDocument(at);
        return out.toByteArray(0);
    }

    /** Whether {@code o} replaces the whole document (no {@code $v}, no operators). */
    public static boolean isReplacement(BsonDocument o) {
        return !o.containsKey("$v") && o.keySet().stream().noneMatch(k -> k.startsWith("$"));
    }
}
