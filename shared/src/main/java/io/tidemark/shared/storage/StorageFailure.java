package io.tidemark.shared.storage;

import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;

import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The one place that tells "the storage cannot be written right now" (a full disk, an embedded
 * store that closed itself after a failed write, a store that does not answer) from a bug. Such a
 * failure is the operator's to fix and heals by itself once they do, so callers answer 503 with
 * {@code Retry-After} and retry with backoff instead of failing for good.
 *
 * <p>The failures come from several layers (the JDK's file I/O, RocksDB, H2's MVStore inside the
 * embedded store, relayed by the wire protocol as a message; the event bus relays only a message
 * too), so both the cause chain's types and its messages are looked at.
 */
public final class StorageFailure {

    /** What is wrong, in words safe to show to anyone (no paths, hosts or driver text). */
    public enum Kind {
        DISK_FULL("a disk is full"),
        STORE_CLOSED("the metadata store is closed"),
        STORE_UNREACHABLE("the metadata store is unreachable");

        private final String text;

        Kind(String text) {
            this.text = text;
        }

        public String text() {
            return text;
        }
    }

    private static final String[] DISK_FULL = {"no space left on device", "nospace", "no space", "disk full",
            "disk quota exceeded", "enospc", "not enough space"};
    private static final String[] STORE_CLOSED = {"this store is closed", "store is closed", "mvstoreexception",
            "org.h2.mvstore", "database is closed"};

    private StorageFailure() {
    }

    public static Optional<Kind> classify(Throwable failure) {
        Kind found = null;
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        for (Throwable t = failure; t != null && seen.put(t, true) == null; t = t.getCause()) {
            Kind kind = kindOf(t);
            // A full disk is the root cause of a store that closed itself: say that.
            if (kind == Kind.DISK_FULL) {
                return Optional.of(kind);
            }
            if (found == null) {
                found = kind;
            }
        }
        return Optional.ofNullable(found);
    }

    public static boolean is(Throwable failure) {
        return classify(failure).isPresent();
    }

    private static Kind kindOf(Throwable t) {
        String text = (t.getClass().getName() + ": " + t.getMessage()).toLowerCase(Locale.ROOT);
        for (String s : DISK_FULL) {
            if (text.contains(s)) {
                return Kind.DISK_FULL;
            }
        }
        for (String s : STORE_CLOSED) {
            if (text.contains(s)) {
                return Kind.STORE_CLOSED;
            }
        }
        if (t instanceof MongoTimeoutException || t instanceof MongoSocketException) {
            return Kind.STORE_UNREACHABLE;
        }
        return null;
    }
}
