package io.tidemark.deploy.demo;

import com.mongodb.MongoClientSettings;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.bson.codecs.configuration.CodecRegistry;

import java.util.LinkedHashMap;
import java.util.Map;

/** Driver values (Document, Map, Date, Decimal128, …) as BSON, encoded as the driver would send them. */
final class DriverValues {

    private static final CodecRegistry CODECS = MongoClientSettings.getDefaultCodecRegistry();

    private DriverValues() {
    }

    /** The fields in the order given; no _id is added (the document is not encoded as a collectible one). */
    static BsonDocument bson(Map<String, ?> values) {
        Document d = values instanceof Document doc ? doc : new Document(new LinkedHashMap<>(values));
        return new RawBsonDocument(d, CODECS.get(Document.class)).decode(new BsonDocumentCodec());
    }

    static BsonValue bsonValue(Object value) {
        return value instanceof BsonValue v ? v : bson(new Document("v", value)).get("v");
    }
}
