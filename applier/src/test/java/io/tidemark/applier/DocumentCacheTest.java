package io.tidemark.applier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

class DocumentCacheTest {
    private static final long MIB = 1L << 20;

    private static byte[] key(int i) {
        return new byte[] {0, 0, 0, 1, 0x10, (byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i};
    }

    private static byte[] value(int i, int version, int length) {
        byte[] v = new byte[length];
        for (int j = 0; j < length; j++) {
            v[j] = (byte) (i * 31 + version * 7 + j);
        }
        return v;
    }

    @Test
    void remembersDocumentsAndAbsences() {
        DocumentCache cache = new DocumentCache(16 * MIB);
        int g = cache.newGeneration();
        assertNull(cache.get(g, key(1)));
        cache.put(g, key(1), value(1, 0, 300));
        cache.put(g, key(2), DocumentCache.ABSENT);
        assertArrayEquals(value(1, 0, 300), cache.get(g, key(1)));
        assertSame(DocumentCache.ABSENT, cache.get(g, key(2)));
        assertNull(cache.get(g, key(3)));
        assertEquals(2, cache.hits());
        assertEquals(2, cache.misses());
    }

    @Test
    void anotherGenerationSeesNothing() {
        DocumentCache cache = new DocumentCache(16 * MIB);
        int g = cache.newGeneration();
        cache.put(g, key(1), value(1, 0, 100));
        int next = cache.newGeneration();
        assertNull(cache.get(next, key(1)));
        assertArrayEquals(value(1, 0, 100), cache.get(g, key(1)));
    }

    @Test
    void newerVersionsReplaceOlderOnesWhetherTheyShrinkOrGrow() {
        DocumentCache cache = new DocumentCache(16 * MIB);
        int g = cache.newGeneration();
        cache.put(g, key(7), value(7, 0, 400));
        cache.put(g, key(7), value(7, 1, 380)); // fits the old space: rewritten in place
        assertArrayEquals(value(7, 1, 380), cache.get(g, key(7)));
        cache.put(g, key(7), value(7, 2, 4000)); // does not: moved
        assertArrayEquals(value(7, 2, 4000), cache.get(g, key(7)));
        cache.put(g, key(7), DocumentCache.ABSENT);
        assertSame(DocumentCache.ABSENT, cache.get(g, key(7)));
        cache.put(g, key(7), value(7, 3, 10));
        assertArrayEquals(value(7, 3, 10), cache.get(g, key(7)));
    }

    @Test
    void aDocumentTooLargeToCacheDropsItsOlderVersion() {
        DocumentCache cache = new DocumentCache(16 * MIB);
        int g = cache.newGeneration();
        cache.put(g, key(1), value(1, 0, 200));
        cache.put(g, key(1), value(1, 1, (int) (MIB / 2)));
        assertNull(cache.get(g, key(1)), "the stale small version must not be served");
    }

    @Test
    void evictsTheOldestAndNeverServesAWrongVersion() {
        // 1 MiB per segment; 40 MB of writes wrap every segment's ring many times over.
        DocumentCache cache = new DocumentCache(16 * MIB);
        int g = cache.newGeneration();
        SplittableRandom r = new SplittableRandom(7);
        Map<Integer, byte[]> truth = new HashMap<>();
        int[] versions = new int[60_000];
        long served = 0;
        for (int step = 0; step < 120_000; step++) {
            int i = r.nextInt(versions.length);
            if (r.nextInt(10) < 4) {
                byte[] v = r.nextInt(20) == 0 ? DocumentCache.ABSENT : value(i, ++versions[i], 100 + r.nextInt(600));
                cache.put(g, key(i), v);
                truth.put(i, v);
            } else {
                byte[] got = cache.get(g, key(i));
                if (got != null) {
                    served++;
                    byte[] want = truth.get(i);
                    if (want == DocumentCache.ABSENT) {
                        assertSame(DocumentCache.ABSENT, got, "key " + i);
                    } else {
                        assertArrayEquals(want, got, "key " + i);
                    }
                }
            }
        }
        assertTrue(served > 10_000, "the cache should answer a good share of reads, answered " + served);
        // The most recent writes are all there; the very first ones are long gone.
        int g2 = cache.newGeneration();
        for (int i = 0; i < 2_000; i++) {
            cache.put(g2, key(i), value(i, 0, 500));
        }
        for (int i = 0; i < 40_000; i++) {
            cache.put(g2, key(100_000 + i), value(i, 0, 500));
        }
        int oldFound = 0;
        for (int i = 0; i < 2_000; i++) {
            oldFound += cache.get(g2, key(i)) == null ? 0 : 1;
        }
        assertEquals(0, oldFound, "20 MB written since: the first entries must have been evicted");
        for (int i = 39_900; i < 40_000; i++) {
            assertArrayEquals(value(i, 0, 500), cache.get(g2, key(100_000 + i)));
        }
    }

    @Test
    void headsOnSeveralThreadsKeepTheirOwnDocuments() throws Exception {
        DocumentCache cache = new DocumentCache(32 * MIB);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int g = cache.newGeneration();
                int seed = t;
                done.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    int[] versions = new int[5_000];
                    for (int step = 0; step < 50_000; step++) {
                        int i = r.nextInt(versions.length);
                        if (r.nextBoolean()) {
                            cache.put(g, key(i), value(i + g, ++versions[i], 200));
                        } else {
                            byte[] got = cache.get(g, key(i));
                            if (got != null && !java.util.Arrays.equals(got, value(i + g, versions[i], 200))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : done) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aZeroSizeCacheIsOff() {
        DocumentCache cache = new DocumentCache(0);
        assertFalse(cache.enabled());
        int g = cache.newGeneration();
        cache.put(g, key(1), value(1, 0, 10));
        assertNull(cache.get(g, key(1)));
        assertThrows(IllegalArgumentException.class, () -> new DocumentCache(-1));
    }
}
