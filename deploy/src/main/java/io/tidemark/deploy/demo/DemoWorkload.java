package io.tidemark.deploy.demo;

import org.bson.Document;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A steady mix of inserts, $set/$unset updates, replacements and deletes against the demo data set,
 * with now and then a scratch collection created or dropped. Counters are read and the new value
 * $set (never $inc), so every update is one the shaped source can log as MongoDB does.
 */
public final class DemoWorkload implements AutoCloseable {

    private static final String ORDERS = "shop.orders";
    private static final String CUSTOMERS = "shop.customers";
    private static final String PRODUCTS = "shop.products";
    private static final String EVENTS = "analytics.events";
    private static final String SCRATCH = "analytics.scratch";

    private final DemoWriter writer;
    private final DemoDataset data;
    private final int customerCount;
    private final int productCount;
    private final AtomicLong operations = new AtomicLong();
    private boolean scratchExists;
    private boolean closed;
    private Disposable running;

    public DemoWorkload(DemoWriter writer, DemoDataset data, int customerCount, int productCount) {
        this.writer = writer;
        this.data = data;
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

    /** One operation of the mix, run on a worker thread (the writers block). */
    public Mono<Object> one() {
        return Mono.fromCallable(this::step).subscribeOn(Schedulers.boundedElastic());
    }

    private synchronized Object step() {
        if (closed) {
            return null;
        }
        Random r = data.random();
        int pick = r.nextInt(100);
        if (pick < 35) {
            writer.insert(ORDERS, data.order(customerCount, productCount));
        } else if (pick < 60) {
            writer.idAt(ORDERS, r.nextInt(50)).ifPresent(id -> writer.update(ORDERS, id,
                    Map.of("status", DemoDataset.STATUSES[r.nextInt(DemoDataset.STATUSES.length)]), List.of()));
        } else if (pick < 75) {
            int id = r.nextInt(customerCount);
            writer.find(CUSTOMERS, id).ifPresent(c -> writer.update(CUSTOMERS, id,
                    new Document("lastSeen", new Date()).append("visits", c.get("visits", 0) + 1), List.of()));
        } else if (pick < 80) {
            int i = r.nextInt(productCount);
            writer.replace(PRODUCTS, String.format("SKU-%05d", i), data.product(i));
        } else if (pick < 88) {
            writer.idAt(ORDERS, r.nextInt(100)).ifPresent(id -> writer.delete(ORDERS, id));
        } else if (pick < 92) {
            int id = r.nextInt(customerCount);
            if (r.nextBoolean()) {
                writer.update(CUSTOMERS, id, Map.of(), List.of("tier"));
            } else {
                writer.update(CUSTOMERS, id, Map.of("tier", "gold"), List.of());
            }
        } else if (pick < 99) {
            writer.insert(EVENTS, data.event(customerCount));
        } else {
            scratch();
        }
        return pick;
    }

    /** Creates the scratch collection with a document in it, or drops it: collection DDL in the stream. */
    private void scratch() {
        if (scratchExists) {
            writer.dropCollection(SCRATCH);
        } else {
            writer.createCollection(SCRATCH);
            writer.insert(SCRATCH, new Document("note", "scratch").append("at", new Date()));
        }
        scratchExists = !scratchExists;
    }

    public long operations() {
        return operations.get();
    }

    /** Stops the load and waits for the operation in flight, so nothing is written after this returns. */
    @Override
    public void close() {
        if (running != null) {
            running.dispose();
        }
        synchronized (this) {
            closed = true;
        }
    }
}
