package io.tidemark.deploy.demo;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;
import com.mongodb.reactivestreams.client.MongoClient;
import com.mongodb.reactivestreams.client.MongoCollection;
import org.bson.Document;
import org.bson.types.ObjectId;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A steady mix of inserts, updates, replacements and deletes against the demo data set. */
public final class DemoWorkload implements AutoCloseable {

    private final DemoDataset data;
    private final MongoCollection<Document> orders;
    private final MongoCollection<Document> customers;
    private final MongoCollection<Document> products;
    private final MongoCollection<Document> events;
    private final int customerCount;
    private final int productCount;
    private final AtomicLong operations = new AtomicLong();
    private Disposable running;

    public DemoWorkload(MongoClient client, DemoDataset data, int customerCount, int productCount) {
        this.data = data;
        this.orders = client.getDatabase("shop").getCollection("orders");
        this.customers = client.getDatabase("shop").getCollection("customers");
        this.products = client.getDatabase("shop").getCollection("products");
        this.events = client.getDatabase("analytics").getCollection("events");
        this.customerCount = customerCount;
        this.productCount = productCount;
    }

    /** Runs about {@code opsPerSecond} operations a second until closed. */
    public void start(int opsPerSecond) {
        running = Flux.interval(Duration.ofNanos(1_000_000_000L / opsPerSecond))
                .onBackpressureDrop()
                .concatMap(t -> one().onErrorResume(e -> Mono.empty()), 1)
                .subscribe(x -> operations.incrementAndGet());
    }

    /** One operation of the mix. */
    public Mono<Object> one() {
        var r = data.random();
        int pick = r.nextInt(100);
        if (pick < 35) {
            return Mono.from(orders.insertOne(data.order(customerCount, productCount))).cast(Object.class);
        } else if (pick < 60) {
            return Mono.from(orders.find().skip(r.nextInt(50)).limit(1).first())
                    .flatMap(o -> Mono.from(orders.updateOne(Filters.eq("_id", o.get("_id")),
                            Updates.set("status", DemoDataset.STATUSES[r.nextInt(DemoDataset.STATUSES.length)]))))
                    .cast(Object.class);
        } else if (pick < 75) {
            return Mono.from(customers.updateOne(Filters.eq("_id", r.nextInt(customerCount)),
                    Updates.combine(Updates.set("lastSeen", new java.util.Date()), Updates.inc("visits", 1)))).cast(Object.class);
        } else if (pick < 80) {
            int i = r.nextInt(productCount);
            return Mono.from(products.replaceOne(Filters.eq("_id", String.format("SKU-%05d", i)), data.product(i))).cast(Object.class);
        } else if (pick < 88) {
            return Mono.from(orders.find().skip(r.nextInt(100)).limit(1).first())
                    .flatMap(o -> Mono.from(orders.deleteOne(Filters.eq("_id", o.get("_id"))))).cast(Object.class);
        } else if (pick < 92) {
            return Mono.from(customers.updateOne(Filters.eq("_id", r.nextInt(customerCount)),
                    Updates.unset("tier"))).cast(Object.class);
        } else {
            return Mono.from(events.insertOne(data.event(customerCount).append("_id", new ObjectId()))).cast(Object.class);
        }
    }

    public long operations() {
        return operations.get();
    }

    @Override
    public void close() {
        if (running != null) {
            running.dispose();
        }
    }
}
