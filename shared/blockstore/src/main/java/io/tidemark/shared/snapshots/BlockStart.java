package io.tidemark.shared.snapshots;

import io.tidemark.shared.blocks.BlockRef;
import java.util.Objects;

/**
 * Where the first record that starts inside a block starts, and that record's head key: the key
 * index of a manifest's block references. Block references of a namespace are in key order, so a
 * lookup by key binary-searches these and reads one block (and the rest of a record that runs
 * into the next), never the namespace. A block in which no record starts, or whose first start
 * the writer did not record, has none: a lookup then starts at an earlier block, which is slower
 * but still exact.
 *
 * @param offset byte offset of the record inside the block's uncompressed bytes
 * @param key the record's head key (namespace id 0), compared with {@code HeadKeys.compare}
 */
public record BlockStart(int offset, byte[] key) {
    public BlockStart {
        Objects.requireNonNull(key, "key");
        if (offset < 0) {
            throw new IllegalArgumentException("offset " + offset);
        }
    }

    /** A block reference with its key index entry; {@code start} null when it has none. */
    public record Indexed(BlockRef ref, BlockStart start) {
        public Indexed {
            Objects.requireNonNull(ref, "ref");
        }
    }
}
