package io.tidemark.shared.storage;

import com.mongodb.MongoTimeoutException;
import io.tidemark.shared.http.ApiException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What counts as "the storage cannot be written" (503, retry) rather than a bug (500). */
class StorageFailureTest {

    @Test
    void aFullDiskIsNamedWhereverItIsInTheCauseChain() {
        assertEquals(Optional.of(StorageFailure.Kind.DISK_FULL),
                StorageFailure.classify(new IOException("No space left on device")));
        assertEquals(Optional.of(StorageFailure.Kind.DISK_FULL), StorageFailure.classify(
                new CompletionException(new UncheckedIOException(new IOException("No space left on device")))));
        // RocksDB's status text, as its Java exception carries it.
        assertEquals(Optional.of(StorageFailure.Kind.DISK_FULL), StorageFailure.classify(
                new RuntimeException("IO error: No space left on device: While appending to file: /heads/j/000012.log")));
        assertEquals(Optional.of(StorageFailure.Kind.DISK_FULL), StorageFailure.classify(
                new RuntimeException("While writing: IOError NoSpace")));
        // A closed store whose cause was a full disk is reported as the full disk.
        assertEquals(Optional.of(StorageFailure.Kind.DISK_FULL), StorageFailure.classify(new IllegalStateException(
                "This store is closed", new IOException("No space left on device"))));
    }

    @Test
    void aClosedOrUnreachableStoreIsNamed() {
        assertEquals(Optional.of(StorageFailure.Kind.STORE_CLOSED),
                StorageFailure.classify(new IllegalStateException("This store is closed [2.3.232/4]")));
        assertEquals(Optional.of(StorageFailure.Kind.STORE_CLOSED), StorageFailure.classify(new RuntimeException(
                "Unknown error: org.h2.mvstore.MVStoreException: Writing to sun.nio.ch.FileChannelImpl@1 failed")));
        assertEquals(Optional.of(StorageFailure.Kind.STORE_UNREACHABLE),
                StorageFailure.classify(new MongoTimeoutException("Timed out after 30000 ms while waiting to connect")));
        // Relayed over the event bus, only the message survives.
        assertEquals(Optional.of(StorageFailure.Kind.STORE_CLOSED),
                StorageFailure.classify(new ApiException(500, "Command failed: the embedded store is closed after a failed write")));
    }

    @Test
    void anythingElseIsNotAStorageFailure() {
        assertEquals(Optional.empty(), StorageFailure.classify(new NullPointerException()));
        assertEquals(Optional.empty(), StorageFailure.classify(new IOException("Connection reset by peer")));
        assertEquals(Optional.empty(), StorageFailure.classify(new IllegalStateException("the chain has a gap")));
        assertEquals(Optional.empty(), StorageFailure.classify(null));
        // A cause chain that loops ends.
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertEquals(Optional.empty(), StorageFailure.classify(a));
    }
}
