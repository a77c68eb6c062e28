package io.tidemark.applier;

import java.util.UUID;

import org.bson.BsonBinary;
import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.UuidRepresentation;
import org.bson.codecs.BsonDocumentCodec;

/** Oplog entries for the head tests. */
final class TestEntries {

    private TestEntries() {
    }

    /** An insert of {@code d} into db.c (collection {@code uuid}) at Timestamp(1700000000, i), term 3. */
    static RawBsonDocument insert(int i, UUID uuid, RawBsonDocument d) {
        return new RawBsonDocument(new BsonDocument("op", new BsonString("i")).append("ns", new BsonString("db.c"))
                .append("ui", new BsonBinary(uuid, UuidRepresentation.STANDARD)).append("o", d)
                .append("o2", new BsonDocument("_id", d.get("_id")))
                .append("ts", new BsonTimestamp(1_700_000_000, i)).append("t", new BsonInt64(3))
                .append("v", new BsonInt64(2)).append("wall", new BsonDateTime(0)), new BsonDocumentCodec());
    }
}
