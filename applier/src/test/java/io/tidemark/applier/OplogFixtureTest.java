package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.oplog.OpTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every fixture under src/test/resources/oplog-fixtures: apply the entries to the
 * {@code before} state and compare with {@code after}; then check that re-applying everything
 * changes nothing, and that stopping part-way (closing the head, as a crash would) and resuming
 * gives the same result.
 */
class OplogFixtureTest {
    @TempDir
    Path tmp;

    static List<Fixture> fixtures() {
        try {
            Path dir = Path.of(OplogFixtureTest.class.getResource("/oplog-fixtures").toURI());
            List<Fixture> out = new ArrayList<>();
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                    BsonDocument doc = RawBsonDocument.parse(Files.readString(f, StandardCharsets.UTF_8)).decode(
                            new org.bson.codecs.BsonDocumentCodec());
                    String base = f.getFileName().toString().replace(".json", "");
                    if (doc.containsKey("groups")) {
                        for (BsonValue g : doc.getArray("groups")) {
                            BsonDocument group = g.asDocument();
                            out.add(new Fixture(base + "/" + group.getString("name").getValue(), group));
                        }
                    } else {
                        out.add(new Fixture(base, doc));
                    }
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @TestFactory
    Stream<DynamicNode> fixtureCorpus() {
        return fixtures().stream().map(f -> DynamicContainer.dynamicContainer(f.name, Stream.of(
                DynamicTest.dynamicTest("apply", () -> applyAndCompare(f)),
                DynamicTest.dynamicTest("crash and resume", () -> crashAndResume(f)))));
    }

    private Path fresh(String label) throws IOException {
        return Files.createTempDirectory(tmp, label.replaceAll("[^A-Za-z0-9]", "_"));
    }

    private void applyAndCompare(Fixture f) throws IOException {
        Path dir = fresh(f.name);
        Head head = f.createBefore(dir);
        try {
            BsonDocument error = f.expectError();
            if (error != null) {
                OpTime before = head.appliedPosition();
                Head h = head;
                Class<? extends Throwable> type = switch (error.getString("type").getValue()) {
                    case "HeadDivergenceException" -> HeadDivergenceException.class;
                    case "UnsupportedOplogEntryException" -> UnsupportedOplogEntryException.class;
                    default -> throw new IllegalArgumentException(error.toJson());
                };
                Throwable t = assertThrows(type, () -> {
                    OplogApplier applier = new OplogApplier(h);
                    for (List<RawBsonDocument> b : f.batches) {
                        applier.apply(b, f.mode);
                    }
                }, f.name);
                if (error.containsKey("messageContains")) {
                    assertTrue(t.getMessage().contains(error.getString("messageContains").getValue()),
                            f.name + ": message was " + t.getMessage());
                }
                // The failing entry travels with the error, and the failed batch left no trace.
                assertTrue(((OplogEntryException) t).entryJson().contains("$timestamp"), t.getMessage());
                if (!f.group.containsKey("after")) {
                    assertEquals(before, head.appliedPosition(), f.name + ": position moved after a failed batch");
                    f.assertState(head, f.group.getDocument("before"), "after failure");
                    return;
                }
            } else {
                OplogApplier applier = new OplogApplier(head);
                for (List<RawBsonDocument> b : f.batches) {
                    applier.apply(b, f.mode);
                    if (f.reopenBetweenBatches) {
                        head.close();
                        head = Head.open(dir);
                        applier = new OplogApplier(head);
                    }
                }
            }
            f.assertState(head, f.group.getDocument("after"), "after apply");
            if (error == null) {
                // Re-delivering everything is a no-op: every entry is at or before the position.
                OplogApplier.Result again = new OplogApplier(head).apply(f.allEntries(), f.mode);
                assertEquals(0, again.applied(), f.name + ": re-applied entries");
                f.assertState(head, f.group.getDocument("after"), "after re-apply");
                head.close();
                head = Head.open(dir);
                f.assertState(head, f.group.getDocument("after"), "after reopen");
            }
        } finally {
            head.close();
        }
    }

    /**
     * Applies a prefix of the entries, "crashes" (closes the head, nothing else), reopens and
     * applies every batch again from the start.
     */
    private void crashAndResume(Fixture f) throws IOException {
        int total = f.allEntries().size();
        if (f.expectError() != null || total < 2) {
            return;
        }
        // Transactions carry state across entries: stop after every one of them.
        int[] cuts = f.name.startsWith("txn") ? java.util.stream.IntStream.range(1, total).toArray()
                : new int[] {total / 2, Math.max(1, total / 3)};
        for (int cut : cuts) {
            Path dir = fresh(f.name + "-cut" + cut);
            Head head = f.createBefore(dir);
            int left = cut;
            OplogApplier applier = new OplogApplier(head);
            for (List<RawBsonDocument> b : f.batches) {
                if (left <= 0) {
                    break;
                }
                applier.apply(b.subList(0, Math.min(left, b.size())), f.mode);
                left -= b.size();
            }
            head.close();
            head = Head.open(dir);
            try {
                applier = new OplogApplier(head);
                for (List<RawBsonDocument> b : f.batches) {
                    applier.apply(b, f.mode);
                }
                f.assertState(head, f.group.getDocument("after"), "after resume at " + cut);
            } finally {
                head.close();
            }
        }
    }
}
