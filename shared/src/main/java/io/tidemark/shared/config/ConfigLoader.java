package io.tidemark.shared.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * Layers configuration: built-in defaults, then an optional YAML file, then {@code TIDEMARK_*}
 * environment variables ({@code TIDEMARK_MONGODB_METADATAURI}, {@code TIDEMARK_INGEST_PORT}: the
 * key path upper-cased and joined with underscores). Unknown keys are errors, because a typo in a
 * backup service's config silently falling back to a default is how backups go missing.
 */
public final class ConfigLoader {

    private static final String ENV_PREFIX = "TIDEMARK_";
    /** Variables that share the prefix but are secrets read elsewhere, never configuration. */
    private static final java.util.Set<String> NOT_CONFIGURATION = java.util.Set.of("TIDEMARK_AGENT_API_KEY");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private ConfigLoader() {
    }

    public static TidemarkConfig defaults() {
        return load(null, Map.of());
    }

    public static TidemarkConfig load(Path file) {
        return load(file, System.getenv());
    }

    public static TidemarkConfig load(Path file, Map<String, String> env) {
        ObjectNode tree = readDefaults();
        if (file != null) {
            try {
                JsonNode user = YAML.readTree(Files.readAllBytes(file));
                if (user != null && !user.isMissingNode() && !user.isNull()) {
                    if (!user.isObject()) {
                        throw new ConfigException(file + ": the configuration must be a YAML mapping");
                    }
                    merge(tree, (ObjectNode) user, "");
                }
            } catch (IOException e) {
                throw new ConfigException("cannot read configuration " + file + ": " + e.getMessage());
            }
        }
        applyEnvironment(tree, env);
        try {
            return YAML.treeToValue(tree, TidemarkConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException("invalid configuration: " + e.getOriginalMessage());
        }
    }

    private static ObjectNode readDefaults() {
        try (InputStream in = ConfigLoader.class.getResourceAsStream("/tidemark-defaults.yaml")) {
            return (ObjectNode) YAML.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("built-in defaults unreadable", e);
        }
    }

    private static void merge(ObjectNode base, ObjectNode over, String path) {
        Iterator<Map.Entry<String, JsonNode>> fields = over.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String key = field.getKey();
            JsonNode known = base.get(key);
            String where = path.isEmpty() ? key : path + "." + key;
            if (known == null) {
                throw new ConfigException("unknown configuration key '" + where + "'");
            }
            if (known.isObject()) {
                if (!field.getValue().isObject()) {
                    throw new ConfigException("configuration key '" + where + "' must be a mapping");
                }
                merge((ObjectNode) known, (ObjectNode) field.getValue(), where);
            } else {
                base.set(key, field.getValue().isNull() ? TextNode.valueOf("") : field.getValue());
            }
        }
    }

    private static void applyEnvironment(ObjectNode tree, Map<String, String> env) {
        Map<String, String> leaves = new TreeMap<>();
        collectLeaves(tree, "", leaves);
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            if (!e.getKey().startsWith(ENV_PREFIX) || NOT_CONFIGURATION.contains(e.getKey())) {
                continue;
            }
            String path = leaves.get(e.getKey());
            if (path == null) {
                throw new ConfigException("unknown configuration variable " + e.getKey()
                        + " (known: " + String.join(", ", leaves.keySet()) + ")");
            }
            ObjectNode parent = tree;
            String[] parts = path.split("\\.");
            for (int i = 0; i < parts.length - 1; i++) {
                parent = (ObjectNode) parent.get(parts[i]);
            }
            parent.set(parts[parts.length - 1], TextNode.valueOf(e.getValue()));
        }
    }

    private static void collectLeaves(ObjectNode node, String path, Map<String, String> out) {
        node.fields().forEachRemaining(f -> {
            String where = path.isEmpty() ? f.getKey() : path + "." + f.getKey();
            if (f.getValue().isObject()) {
                collectLeaves((ObjectNode) f.getValue(), where, out);
            } else {
                out.put(ENV_PREFIX + where.replace('.', '_').toUpperCase(java.util.Locale.ROOT), where);
            }
        });
    }
}
