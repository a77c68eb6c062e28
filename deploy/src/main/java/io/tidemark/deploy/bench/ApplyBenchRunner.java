package io.tidemark.deploy.bench;

import io.tidemark.applier.HeadMemory;
import io.tidemark.applier.bench.ApplyBench;
import io.tidemark.shared.util.ProcessMemory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** {@code tidemark bench apply}: the applier's benchmark per mix, several runs, medians as JSON. */
public final class ApplyBenchRunner {

    private ApplyBenchRunner() {
    }

    public static JsonObject run(List<String> mixes, int entries, int runs) {
        Path dir;
        try {
            dir = Files.createTempDirectory("tidemark-bench-apply");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        JsonObject results = new JsonObject();
        // One memory budget for every run, as a server has for all its heads' lifetimes.
        try (HeadMemory memory = ApplyBench.serverMemory()) {
            for (String mix : mixes) {
                // An unreported run of the same size first: shorter ones left the JIT compiling (and
                // recompiling what the previous mix had profiled) into the first reported run, which
                // then took a third more CPU than the others. The reported runs measure a running server.
                ApplyBench.run(dir, mix, entries, memory);
                List<JsonObject> each = new ArrayList<>();
                for (int r = 0; r < runs; r++) {
                    Map<String, Object> one = ApplyBench.run(dir, mix, entries, memory);
                    each.add(new JsonObject(new java.util.LinkedHashMap<>(one)));
                }
                List<JsonObject> sorted = new ArrayList<>(each);
                sorted.sort(Comparator.comparingDouble(o -> ((Number) o.getValue("entriesPerSecond")).doubleValue()));
                results.put(mix, new JsonObject().put("runs", new JsonArray(each))
                        .put("medianEntriesPerSecond", sorted.get(sorted.size() / 2).getValue("entriesPerSecond")));
            }
        } finally {
            io.tidemark.shared.util.Directories.deleteTreeQuietly(dir);
        }
        return new JsonObject().put("benchmark", "apply").put("entries", entries).put("mixes", results)
                .put("peakRssBytes", ProcessMemory.peakRssBytes()).put("cores", Runtime.getRuntime().availableProcessors());
    }
}
