package io.tidemark.deploy;

import io.tidemark.shared.config.ConfigLoader;
import io.tidemark.shared.config.TidemarkConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Options every command shares: where the configuration and the data dir are. */
final class CommonOptions {

    @Option(names = "--config", description = "YAML configuration file (TIDEMARK_* environment variables override it).")
    Path config;

    @Option(names = "--data-dir", description = "Data directory (default ./tidemark-data, or the config's dataDir).")
    Path dataDir;

    TidemarkConfig load() {
        return load(Map.of());
    }

    /** Loads with {@code defaults} as the command's own defaults, which the environment still overrides. */
    TidemarkConfig load(Map<String, String> defaults) {
        return load(defaults, Map.of());
    }

    /** As {@link #load(Map)}, then {@code fixed} over everything (a demo's second daemon: its own data dir). */
    TidemarkConfig load(Map<String, String> defaults, Map<String, String> fixed) {
        Map<String, String> env = new HashMap<>(defaults);
        env.putAll(System.getenv());
        if (dataDir != null) {
            env.put("TIDEMARK_DATADIR", dataDir.toString());
        }
        env.putAll(fixed);
        return ConfigLoader.load(config, env);
    }
}
