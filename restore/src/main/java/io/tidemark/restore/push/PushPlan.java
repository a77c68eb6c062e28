package io.tidemark.restore.push;

import io.tidemark.shared.snapshots.Manifest;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What a push creates for each namespace of a restore, decided before anything is written.
 *
 * <ul>
 *   <li>A collection is created with its listCollections options (less {@code temp}, which only a
 *       rename in progress carries), filled, then given its indexes.</li>
 *   <li>A time-series collection is kept in a head as its bucket collection
 *       {@code system.buckets.X}. The push creates {@code X} with its {@code timeseries} options
 *       (MongoDB then makes the buckets collection and the view), and inserts the bucket documents
 *       into {@code system.buckets.X} as they are, which is what mongorestore does: buckets carry
 *       the compressed measurements and their control fields, and re-inserting measurements one
 *       by one would re-bucket them differently. The view MongoDB makes for {@code X} is not
 *       created again.</li>
 *   <li>A view is created from its definition ({@code viewOn}, {@code pipeline}, {@code collation})
 *       after every collection; {@code system.views} itself is not copied, since creating the views
 *       writes it.</li>
 *   <li>Other {@code system.*} collections (users, roles, profiling) are skipped and reported: they
 *       are the target deployment's own.</li>
 * </ul>
 */
final class PushPlan {

    static final String BUCKETS_PREFIX = "system.buckets.";

    enum Kind { COLLECTION, TIMESERIES, VIEW }

    /**
     * @param name           the name created and checked in the target
     * @param dataCollection where documents go (the buckets collection for time series), null for views
     * @param create         the create command
     */
    record Step(Manifest.Namespace source, Kind kind, String db, String name, String dataCollection,
                BsonDocument create, List<BsonDocument> indexes) {

        String ns() {
            return db + "." + name;
        }

        /** Names that must be free (or empty) in the target. */
        List<String> targetNames() {
            return kind == Kind.TIMESERIES ? List.of(name, BUCKETS_PREFIX + name) : List.of(name);
        }
    }

    final List<Step> steps = new ArrayList<>();
    final List<String> skipped = new ArrayList<>();

    static PushPlan of(List<Manifest.Namespace> namespaces) {
        PushPlan plan = new PushPlan();
        Set<String> timeSeries = new HashSet<>();
        for (Manifest.Namespace n : namespaces) {
            if (n.type().equals("timeseries") && n.collection().startsWith(BUCKETS_PREFIX)) {
                timeSeries.add(n.db() + "." + n.collection());
            }
        }
        List<Step> views = new ArrayList<>();
        for (Manifest.Namespace n : namespaces) {
            switch (n.type()) {
                case "collection" -> {
                    if (n.collection().equals("system.views")) {
                        continue; // rewritten by creating the views
                    }
                    if (n.collection().startsWith("system.") && !n.collection().equals("system.js")) {
                        plan.skipped.add(n.ns() + ": a system collection of the target deployment's own");
                        continue;
                    }
                    BsonDocument create = new BsonDocument("create", new BsonString(n.collection()));
                    n.options().forEach((k, v) -> {
                        if (!k.equals("temp")) {
                            create.put(k, v);
                        }
                    });
                    plan.steps.add(new Step(n, Kind.COLLECTION, n.db(), n.collection(), n.collection(), create, userIndexes(n)));
                }
                case "timeseries" -> {
                    if (!n.collection().startsWith(BUCKETS_PREFIX)) {
                        throw new IllegalStateException("time-series namespace " + n.ns() + " is not a " + BUCKETS_PREFIX
                                + "* bucket collection; pushing it is not supported");
                    }
                    String name = n.collection().substring(BUCKETS_PREFIX.length());
                    BsonDocument create = new BsonDocument("create", new BsonString(name));
                    for (String k : List.of("timeseries", "expireAfterSeconds", "collation")) {
                        BsonValue v = n.options().get(k);
                        if (v != null) {
                            create.put(k, v);
                        }
                    }
                    plan.steps.add(new Step(n, Kind.TIMESERIES, n.db(), name, n.collection(), create, userIndexes(n)));
                }
                case "view" -> {
                    BsonValue on = n.options().get("viewOn");
                    if (on != null && on.isString() && timeSeries.contains(n.db() + "." + on.asString().getValue())) {
                        continue; // made by creating the time-series collection
                    }
                    BsonDocument create = new BsonDocument("create", new BsonString(n.collection()));
                    n.options().forEach(create::put);
                    views.add(new Step(n, Kind.VIEW, n.db(), n.collection(), null, create, List.of()));
                }
                default -> throw new IllegalStateException("namespace " + n.ns() + " has unknown type " + n.type());
            }
        }
        plan.steps.addAll(views);
        return plan;
    }

    /** Index specs to create after the data: all but {@code _id_}, which every collection has. */
    private static List<BsonDocument> userIndexes(Manifest.Namespace n) {
        List<BsonDocument> out = new ArrayList<>();
        for (BsonDocument spec : n.indexes()) {
            BsonValue name = spec.get("name");
            if (name != null && name.isString() && name.asString().getValue().equals("_id_")) {
                continue;
            }
            BsonDocument clean = new BsonDocument();
            // "ns" was part of specs before 4.4 and is refused by newer servers.
            spec.forEach((k, v) -> {
                if (!k.equals("ns")) {
                    clean.put(k, v);
                }
            });
            out.add(clean);
        }
        return out;
    }

    Set<String> databases() {
        Set<String> dbs = new java.util.LinkedHashSet<>();
        steps.forEach(s -> dbs.add(s.db()));
        return dbs;
    }
}
