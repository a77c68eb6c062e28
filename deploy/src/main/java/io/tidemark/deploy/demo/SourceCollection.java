package io.tidemark.deploy.demo;

import org.bson.BsonDocument;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What the shaped source knows of one collection, to log commands as MongoDB would: the UUID its
 * create carried, its creation options and its index specs ({@code _id_} first).
 */
record SourceCollection(UUID uuid, BsonDocument options, List<BsonDocument> indexes) {

    static SourceCollection created(BsonDocument options) {
        return new SourceCollection(UUID.randomUUID(), options, List.of(IndexSpecs.ID_INDEX.clone()));
    }

    BsonDocument index(String name) {
        for (BsonDocument spec : indexes) {
            if (spec.getString("name").getValue().equals(name)) {
                return spec;
            }
        }
        return null;
    }

    SourceCollection withIndex(BsonDocument spec) {
        List<BsonDocument> more = new ArrayList<>(indexes);
        more.add(spec);
        return new SourceCollection(uuid, options, List.copyOf(more));
    }

    SourceCollection withoutIndex(String name) {
        List<BsonDocument> fewer = new ArrayList<>(indexes);
        fewer.removeIf(spec -> spec.getString("name").getValue().equals(name));
        return new SourceCollection(uuid, options, List.copyOf(fewer));
    }
}
