package io.tidemark.deploy.demo;

import org.bson.Document;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * A small shop's data, shaped like real application data: customers with nested addresses,
 * products with decimal prices, orders with line items, an event stream; secondary indexes too.
 */
public final class DemoDataset {

    static final String[] CITIES = {"Lisbon", "Oslo", "Austin", "Osaka", "Nairobi", "Lima", "Berlin", "Perth"};
    static final String[] CATEGORIES = {"books", "garden", "kitchen", "toys", "audio", "outdoor"};
    static final String[] STATUSES = {"new", "paid", "packed", "shipped", "delivered"};

    private final Random random = new Random(42);

    /** Loads the data set through {@code writer}; returns the number of documents written. */
    public long load(DemoWriter writer, int customers, int products, int orders, int events) {
        long n = 0;
        n += insertInBatches(writer, "shop.customers", customers, this::customer);
        n += insertInBatches(writer, "shop.products", products, this::product);
        n += insertInBatches(writer, "shop.orders", orders, i -> order(customers, products));
        n += insertInBatches(writer, "analytics.events", events, i -> event(customers));
        writer.createIndex("shop.customers", new Document("email", 1), new Document("name", "email_1").append("unique", true));
        writer.createIndex("shop.orders", new Document("customerId", 1).append("createdAt", 1), null);
        writer.createIndex("shop.products", new Document("category", 1), null);
        writer.createIndex("analytics.events", new Document("at", -1), null);
        return n;
    }

    private static long insertInBatches(DemoWriter writer, String ns, int count, IntFunction<Document> make) {
        List<Document> batch = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            batch.add(make.apply(i));
            if (batch.size() == 1000) {
                writer.insertMany(ns, batch);
                batch = new ArrayList<>();
            }
        }
        writer.insertMany(ns, batch);
        return count;
    }

    Document customer(int i) {
        return new Document("_id", i)
                .append("name", "Customer " + i)
                .append("email", "customer" + i + "@example.com")
                .append("address", new Document("street", (1 + random.nextInt(300)) + " Harbour Road")
                        .append("city", CITIES[random.nextInt(CITIES.length)])
                        .append("zip", String.format("%05d", random.nextInt(100000))))
                .append("tier", random.nextInt(10) == 0 ? "gold" : "standard")
                .append("tags", List.of("newsletter", random.nextBoolean() ? "mobile" : "web"))
                .append("createdAt", Date.from(Instant.now().minusSeconds(random.nextInt(86400 * 365))));
    }

    Document product(int i) {
        return new Document("_id", String.format("SKU-%05d", i))
                .append("name", "Product " + i)
                .append("category", CATEGORIES[random.nextInt(CATEGORIES.length)])
                .append("price", new Decimal128(BigDecimal.valueOf(100 + random.nextInt(20000), 2)))
                .append("stock", random.nextInt(500))
                .append("attributes", new Document("weightGrams", 50 + random.nextInt(5000))
                        .append("color", random.nextBoolean() ? "blue" : "green"));
    }

    Document order(int customers, int products) {
        List<Document> items = new ArrayList<>();
        int lines = 1 + random.nextInt(4);
        double total = 0;
        for (int l = 0; l < lines; l++) {
            double price = (100 + random.nextInt(20000)) / 100.0;
            int qty = 1 + random.nextInt(3);
            total += price * qty;
            items.add(new Document("sku", String.format("SKU-%05d", random.nextInt(products))).append("qty", qty).append("price", price));
        }
        return new Document("_id", new ObjectId())
                .append("customerId", random.nextInt(customers))
                .append("items", items)
                .append("total", Math.round(total * 100) / 100.0)
                .append("status", STATUSES[random.nextInt(STATUSES.length)])
                .append("createdAt", new Date());
    }

    Document event(int customers) {
        return new Document("_id", new ObjectId())
                .append("type", random.nextBoolean() ? "page_view" : "add_to_cart")
                .append("userId", random.nextInt(customers))
                .append("at", new Date())
                .append("payload", new Document("path", "/p/" + random.nextInt(1000)).append("ms", random.nextInt(900)));
    }

    Random random() {
        return random;
    }
}
