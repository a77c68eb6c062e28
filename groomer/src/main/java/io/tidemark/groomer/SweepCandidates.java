package io.tidemark.groomer;

import io.tidemark.shared.blocks.BlockId;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Blocks a sweep found unmarked and old enough, kept compactly (40 bytes each: the full id and
 * the stored size) between listing the store and deleting, because the mark is re-checked in
 * between and the store's listing cannot be held open that long on every store.
 */
final class SweepCandidates {

    private long[] words = new long[5 * 256];
    private int size;

    void add(BlockId id, long storedSize) {
        if ((size + 1) * 5 > words.length) {
            words = Arrays.copyOf(words, words.length * 2);
        }
        int at = size * 5;
        for (int i = 0; i < 4; i++) {
            words[at + i] = id.longAt(i);
        }
        words[at + 4] = storedSize;
        size++;
    }

    int size() {
        return size;
    }

    BlockId id(int index) {
        ByteBuffer b = ByteBuffer.allocate(BlockId.LENGTH);
        for (int i = 0; i < 4; i++) {
            b.putLong(words[index * 5 + i]);
        }
        return BlockId.fromBytes(b.array());
    }

    long storedSize(int index) {
        return words[index * 5 + 4];
    }
}
