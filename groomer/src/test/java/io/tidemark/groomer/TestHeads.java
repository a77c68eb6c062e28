package io.tidemark.groomer;

import static io.tidemark.groomer.GroomFixture.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tidemark.applier.BulkLoader;
import io.tidemark.applier.Head;
import io.tidemark.applier.HeadView;
import io.tidemark.applier.NamespaceEntry;
import io.tidemark.applier.NamespaceType;
import io.tidemark.shared.blocks.BlockReader;
import io.tidemark.shared.blocks.BlockRef;
import io.tidemark.shared.blocks.BlockStore;
import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.Manifest;
import io.tidemark.shared.snapshots.ManifestStore;
import io.tidemark.snapshotter.SnapshotTaker;
import io.tidemark.snapshotter.blocks.BlockWriter;
import io.tidemark.snapshotter.chunk.ChunkingParams;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.bson.BsonBinary;
import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonTimestamp;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;

/**
 * Small real heads whose content is a function of a version number, so a test can bring old
 * data back (the case where a snapshot finds an expired snapshot's blocks in the store), and
 * the byte-exact expectation of what a snapshot holds.
 */
final class TestHeads {

    /** Small chunks: a head of a few hundred KB has dozens of blocks. */
    static final BlockWriter.Options OPTIONS = BlockWriter.Options.defaults()
            .withChunking(new ChunkingParams(2048, 8192, 32768));
    static final int DOCUMENTS = 600;
    private static final long T0 = 1_700_000_000L;

    private TestHeads() {
    }

    static SnapshotTaker taker(GroomFixture fx, BlockStore store) {
        return new SnapshotTaker(store, fx.manifests, fx.catalog, fx.cpu, fx.io, OPTIONS);
    }

    static Head open(Path dir) {
        Head head = Head.open(dir);
        head.createNamespace("app", "items", UUID.nameUUIDFromBytes(dir.toString().getBytes()), NamespaceType.COLLECTION,
                raw(new BsonDocument()), List.of(raw(new BsonDocument("v", new BsonInt32(2))
                        .append("key", new BsonDocument("_id", new BsonInt32(1))).append("name", new BsonString("_id_")))));
        head.initializePosition(OpTime.of(new BsonTimestamp((int) T0, 1)));
        return head;
    }

    /**
     * Rewrites the head as version {@code v}: a third of the documents never change, the middle
     * third cycles through three variants (so version v + 3 brings back version v's data), the
     * last third is new in every version. Moves the position one second on first, so the
     * namespace is recorded as modified after any snapshot of the previous version (as applying
     * oplog entries would), which is what lets a snapshot tell it from an unchanged one.
     */
    static void write(Head head, int v) {
        NamespaceEntry ns = head.catalog().byName("app.items").orElseThrow();
        BsonTimestamp ts = head.appliedTs();
        head.initializePosition(OpTime.of(new BsonTimestamp(ts.getTime() + 1, 1)));
        try (BulkLoader loader = head.bulkLoader(ns.id())) {
            for (int i = 0; i < DOCUMENTS; i++) {
                long seed = i < DOCUMENTS / 3 ? i : i < 2 * DOCUMENTS / 3 ? 1_000_000L * (1 + v % 3) + i : 1_000_000_000L * (1 + v) + i;
                byte[] payload = new byte[900];
                new SplittableRandom(seed).nextBytes(payload);
                loader.add(raw(new BsonDocument("_id", new BsonInt32(i)).append("payload", new BsonBinary(payload))));
            }
            loader.finish();
        }
    }

    /** Per namespace, the concatenated raw BSON of its documents in key order: what a snapshot must hold. */
    static Map<String, byte[]> content(Head head) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (HeadView view = head.openView()) {
            for (NamespaceEntry ns : view.namespaces()) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                try (HeadView.DocumentCursor c = view.documents(ns)) {
                    while (c.hasNext()) {
                        bytes.writeBytes(c.nextBytes());
                    }
                }
                out.put(ns.ns(), bytes.toByteArray());
            }
        }
        return out;
    }

    /** Reassembles every namespace of the snapshot from its manifest and the blocks, and compares. */
    static void assertRestoresExactly(ManifestStore manifests, BlockStore store, String snapshotId,
            Map<String, byte[]> expected) {
        Manifest m = manifests.read(snapshotId).block(TIMEOUT);
        assertEquals(expected.keySet(), Map.copyOf(m.namespaces().stream()
                .collect(java.util.stream.Collectors.toMap(Manifest.Namespace::ns, n -> 0))).keySet(), snapshotId);
        for (Manifest.Namespace n : m.namespaces()) {
            ByteArrayOutputStream restored = new ByteArrayOutputStream();
            new BlockReader(store, 4).read(manifests.refs(snapshotId, n.index()).map(BlockRef::id))
                    .doOnNext(restored::writeBytes).blockLast(TIMEOUT);
            assertArrayEquals(expected.get(n.ns()), restored.toByteArray(), snapshotId + " " + n.ns());
        }
    }

    private static RawBsonDocument raw(BsonDocument d) {
        return new RawBsonDocument(d, new BsonDocumentCodec());
    }
}
