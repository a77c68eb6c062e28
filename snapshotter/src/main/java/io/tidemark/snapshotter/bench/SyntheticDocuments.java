package io.tidemark.snapshotter.bench;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic stream of raw BSON documents shaped like a head's contents — three
 * namespaces (users, orders, log events) one after another, each document with an
 * {@code _id} ObjectId first, nested sub-documents, arrays, dates and free text drawn from
 * a small vocabulary — so it compresses about as well as real collections do.
 *
 * <p>To produce gigabytes at memory speed the documents come from a pre-built pool per
 * namespace; every emitted copy gets a fresh ObjectId and a fresh counter, so no two
 * documents (and no two chunks) in a stream are identical. The same seed always yields
 * the same bytes.
 */
public final class SyntheticDocuments {

    /** The namespaces documents belong to, in stream order. */
    public static final List<String> NAMESPACES = List.of("shop.users", "shop.orders", "logs.events");

    /** Receives one document: {@code length} bytes at {@code offset} of {@code buffer}, valid during the call. */
    @FunctionalInterface
    public interface DocumentSink {
        void accept(int namespace, byte[] buffer, int offset, int length);
    }

    /** Offset of the ObjectId payload in a document whose first field is {@code _id}. */
    private static final int ID_OFFSET = 4 + 1 + 4;
    private static final int POOL_SIZE = 8192;
    /** Share of the stream each namespace takes: users, orders, events. */
    private static final double[] NAMESPACE_SHARE = {0.2, 0.5, 0.3};

    private static final String[] WORDS = (
            "the of and to in is you that it he was for on are as with his they at be this have from or one "
            + "had by word but not what all were we when your can said there use an each which she do how their "
            + "if will up other about out many then them these so some her would make like him into time has look "
            + "two more write go see number no way could people my than first water been call who oil its now "
            + "find long down day did get come made may part backup snapshot replica primary secondary oplog "
            + "shard cluster index collection document query latency timeout retry error warning connection "
            + "session request response cache disk memory network throughput customer invoice payment shipping "
            + "order product catalog inventory warehouse delivery account profile address city street country")
            .split(" ");
    private static final String[] FIRST = {"Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Dennis", "Margaret",
        "Edsger", "Donald", "Frances", "John", "Radia", "Tim", "Sophie", "Leslie", "Niklaus", "Guido", "Bjarne", "Anita"};
    private static final String[] LAST = {"Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Ritchie",
        "Hamilton", "Dijkstra", "Knuth", "Allen", "McCarthy", "Perlman", "Berners-Lee", "Wilson", "Lamport", "Wirth",
        "van Rossum", "Stroustrup", "Borg"};
    private static final String[] CITIES = {"Dublin", "Berlin", "Austin", "Sydney", "Toronto", "Lisbon", "Osaka",
        "Nairobi", "Oslo", "Santiago", "Pune", "Krakow"};
    private static final String[] STATUS = {"placed", "paid", "packed", "shipped", "delivered", "returned", "cancelled"};
    private static final String[] LEVELS = {"DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"};
    private static final String[] SERVICES = {"api-gateway", "checkout", "inventory", "search", "billing", "auth"};

    private final byte[][][] pools;
    private final long seed;

    public SyntheticDocuments(long seed) {
        this.seed = seed;
        SplittableRandom rnd = new SplittableRandom(seed);
        BsonBuffer b = new BsonBuffer();
        pools = new byte[3][POOL_SIZE][];
        for (int i = 0; i < POOL_SIZE; i++) {
            pools[0][i] = user(b, rnd);
            pools[1][i] = order(b, rnd);
            pools[2][i] = event(b, rnd);
        }
    }

    /**
     * {@code totalBytes} of documents (ending a little short of it, never inside a document),
     * generated lazily as they are read, so memory stays at one buffer.
     */
    public InputStream input(long totalBytes) {
        return new InputStream() {
            private final Cursor cursor = new Cursor(seed, totalBytes);
            private ByteBuffer current = ByteBuffer.allocate(0);

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (!current.hasRemaining()) {
                    current = cursor.fill(1 << 20);
                    if (current == null) {
                        current = ByteBuffer.allocate(0);
                        return -1;
                    }
                }
                int n = Math.min(len, current.remaining());
                current.get(b, off, n);
                return n;
            }
        };
    }

    /** Documents made like those of {@link #input}, one by one with the namespace each belongs to. */
    public void documents(long totalBytes, DocumentSink sink) {
        documents(totalBytes, 0, sink);
    }

    /**
     * Like {@link #documents(long, DocumentSink)} with ObjectIds numbered after {@code idsBefore}:
     * documents generated later with a higher number have newer ids, as inserts into a live
     * collection do, and sort after the earlier ones.
     */
    public void documents(long totalBytes, long idsBefore, DocumentSink sink) {
        Cursor cursor = new Cursor(seed, totalBytes);
        cursor.counter = idsBefore;
        while (cursor.next(sink)) {
            // each call hands one document to the sink
        }
    }

    /**
     * A different document of the same namespace that keeps the {@code _id} of the one at
     * {@code offset}: what an update that rewrites a document leaves in the head.
     */
    public byte[] rewrite(int namespace, byte[] doc, int offset, SplittableRandom random) {
        byte[][] pool = pools[namespace];
        byte[] template = pool[random.nextInt(pool.length)];
        byte[] out = template.clone();
        System.arraycopy(doc, offset + ID_OFFSET, out, ID_OFFSET, 12);
        return out;
    }

    /** The whole stream as one array, for tests that edit it. */
    public byte[] bytes(int totalBytes) {
        byte[] out = new byte[totalBytes];
        Cursor cursor = new Cursor(seed, totalBytes);
        int pos = 0;
        ByteBuffer b;
        while ((b = cursor.fill(1 << 20)) != null) {
            int n = b.remaining();
            b.get(out, pos, n);
            pos += n;
        }
        return java.util.Arrays.copyOf(out, pos);
    }

    private final class Cursor {
        private final SplittableRandom rnd;
        private final long total;
        private long emitted;
        private long counter;

        Cursor(long seed, long total) {
            this.rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
            this.total = total;
        }

        /** Emits the next document; false at the end. */
        boolean next(DocumentSink sink) {
            if (emitted >= total) {
                return false;
            }
            int ns = namespaceAt(emitted);
            byte[][] pool = pools[ns];
            byte[] doc = pool[rnd.nextInt(pool.length)];
            if (emitted + doc.length > total) {
                emitted = total;
                return false;
            }
            if (scratch.length < doc.length) {
                scratch = new byte[doc.length];
            }
            System.arraycopy(doc, 0, scratch, 0, doc.length);
            stampId(scratch, 0);
            emitted += doc.length;
            sink.accept(ns, scratch, 0, doc.length);
            return true;
        }

        private byte[] scratch = new byte[0];

        private void stampId(byte[] out, int pos) {
            long n = ++counter;
            // ObjectId: 4-byte seconds then 8 bytes that make it unique, as real ids do.
            putBigEndian(out, pos + ID_OFFSET, 4, 1_700_000_000L + (n >>> 10));
            putBigEndian(out, pos + ID_OFFSET + 4, 8, n * 0x9E3779B97F4A7C15L);
        }

        ByteBuffer fill(int size) {
            if (emitted >= total) {
                return null;
            }
            byte[] out = new byte[size];
            int pos = 0;
            while (emitted + pos < total) {
                byte[][] pool = pools[namespaceAt(emitted + pos)];
                byte[] doc = pool[rnd.nextInt(pool.length)];
                if (pos + doc.length > size || emitted + pos + doc.length > total) {
                    break;
                }
                System.arraycopy(doc, 0, out, pos, doc.length);
                stampId(out, pos);
                pos += doc.length;
            }
            if (pos == 0) {
                emitted = total;
                return null;
            }
            emitted += pos;
            return ByteBuffer.wrap(out, 0, pos);
        }

        private int namespaceAt(long offset) {
            double f = (double) offset / total;
            return f < NAMESPACE_SHARE[0] ? 0 : f < NAMESPACE_SHARE[0] + NAMESPACE_SHARE[1] ? 1 : 2;
        }
    }

    private static void putBigEndian(byte[] a, int at, int len, long v) {
        for (int i = len - 1; i >= 0; i--) {
            a[at + len - 1 - i] = (byte) (v >>> (8 * i));
        }
    }

    private static byte[] user(BsonBuffer b, SplittableRandom r) {
        String first = pick(r, FIRST);
        String last = pick(r, LAST);
        b.reset();
        b.startDocument()
                .objectId("_id", 0, 0)
                .string("name", first + " " + last)
                .string("email", first.toLowerCase() + "." + last.toLowerCase().replace(' ', '-') + r.nextInt(1000)
                        + "@example.com")
                .int32("age", 18 + r.nextInt(70))
                .dateTime("createdAt", 1_500_000_000_000L + r.nextLong(200_000_000_000L))
                .bool("active", r.nextInt(10) > 1)
                .dbl("score", Math.round(r.nextDouble() * 10_000) / 100.0);
        b.document("address")
                .string("street", (1 + r.nextInt(999)) + " " + capital(pick(r, WORDS)) + " Street")
                .string("city", pick(r, CITIES))
                .string("zip", String.format("%05d", r.nextInt(100_000)))
                .endDocument();
        b.array("tags");
        int tags = r.nextInt(6);
        for (int i = 0; i < tags; i++) {
            b.string(Integer.toString(i), pick(r, WORDS));
        }
        b.endDocument();
        b.string("bio", sentence(r, r.nextInt(60)));
        return b.endDocument().toArray();
    }

    private static byte[] order(BsonBuffer b, SplittableRandom r) {
        b.reset();
        b.startDocument()
                .objectId("_id", 0, 0)
                .objectId("userId", 0x6500000000000000L | r.nextLong(1L << 40), r.nextInt())
                .string("status", pick(r, STATUS))
                .dateTime("placedAt", 1_600_000_000_000L + r.nextLong(100_000_000_000L))
                .string("currency", r.nextInt(4) == 0 ? "EUR" : "USD");
        b.array("items");
        int items = 1 + r.nextInt(6);
        double total = 0;
        for (int i = 0; i < items; i++) {
            int qty = 1 + r.nextInt(4);
            double price = Math.round(r.nextDouble() * 20_000) / 100.0;
            total += qty * price;
            b.document(Integer.toString(i))
                    .string("sku", "SKU-" + (10_000 + r.nextInt(90_000)))
                    .string("title", capital(pick(r, WORDS)) + " " + pick(r, WORDS))
                    .int32("qty", qty)
                    .dbl("price", price)
                    .endDocument();
        }
        b.endDocument();
        b.dbl("total", Math.round(total * 100) / 100.0);
        b.document("shipping")
                .string("method", r.nextBoolean() ? "standard" : "express")
                .string("city", pick(r, CITIES))
                .int64("trackingNo", r.nextLong(1L << 50))
                .endDocument();
        return b.endDocument().toArray();
    }

    private static byte[] event(BsonBuffer b, SplittableRandom r) {
        b.reset();
        b.startDocument()
                .objectId("_id", 0, 0)
                .dateTime("ts", 1_700_000_000_000L + r.nextLong(10_000_000_000L))
                .string("level", pick(r, LEVELS))
                .string("service", pick(r, SERVICES))
                .string("host", "host-" + r.nextInt(64))
                .string("msg", sentence(r, 5 + r.nextInt(20)));
        b.document("attrs")
                .string("requestId", Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong()))
                .int32("latencyMs", r.nextInt(2000))
                .int32("status", r.nextInt(20) == 0 ? 500 : 200)
                .endDocument();
        return b.endDocument().toArray();
    }

    private static String sentence(SplittableRandom r, int words) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            if (i > 0) {
                sb.append(' ');
            }
            sb.append(pick(r, WORDS));
        }
        return sb.toString();
    }

    private static String capital(String w) {
        return Character.toUpperCase(w.charAt(0)) + w.substring(1);
    }

    private static String pick(SplittableRandom r, String[] from) {
        return from[r.nextInt(from.length)];
    }
}
