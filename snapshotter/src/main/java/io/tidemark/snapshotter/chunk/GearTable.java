package io.tidemark.snapshotter.chunk;

/**
 * The 256 random 64-bit values the gear hash adds per byte value.
 *
 * <p>They come from SplitMix64 (Steele, Lea, Flood: "Fast splittable pseudorandom number
 * generators", OOPSLA 2014; the generator behind {@code java.util.SplittableRandom}) run
 * from a fixed seed, so every process on every machine, before and after a restart, cuts
 * the same data at the same places; a table drawn at random per run would make dedup
 * across snapshots impossible. The algorithm is written out here rather than taken from
 * {@code SplittableRandom} so that a JDK change cannot silently move every boundary.
 */
final class GearTable {

    /** ASCII "tidemark"; changing it invalidates dedup against every stored block. */
    static final long SEED = 0x746964656d61726bL;

    static final long[] GEAR = generate(SEED);

    private GearTable() {
    }

    static long[] generate(long seed) {
        long[] table = new long[256];
        long state = seed;
        for (int i = 0; i < table.length; i++) {
            state += 0x9e3779b97f4a7c15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            table[i] = z ^ (z >>> 31);
        }
        return table;
    }
}
