package io.tidemark.shared.config;

import java.nio.file.Path;

/** The server's and agent's configuration, bound from tidemark-defaults.yaml, a file and the environment. */
public record TidemarkConfig(String dataDir, Mongodb mongodb, Ingest ingest, Api api, Agent agent,
                             Heads heads, Snapshots snapshots, Blockstore blockstore) {

    public record Mongodb(String metadataUri, String blockstoreUri, int embeddedPort) {
        public boolean embedded() {
            return metadataUri.isBlank() && blockstoreUri.isBlank();
        }
    }

    public record Tls(String certFile, String keyFile) {
        public boolean configured() {
            return !certFile.isBlank() && !keyFile.isBlank();
        }
    }

    public record ApiTls(boolean enabled, String certFile, String keyFile) {
        public Tls files() {
            return new Tls(certFile, keyFile);
        }
    }

    public record Ingest(String host, int port, long maxBodyBytes, Tls tls) {
    }

    public record Api(String host, int port, ApiTls tls) {
    }

    public record Agent(int batchMaxBytes, int batchMaxMillis, int sliceBytes, int slicesInFlight,
                        int heartbeatSeconds, int pollMillis) {
    }

    public record Heads(String root, int prefetchBatches, long blockCacheBytes, long memtableBytes) {
    }

    public record Snapshots(int intervalMinutes, int chunkMinBytes, int chunkAvgBytes, int chunkMaxBytes,
                            int compressionLevel) {
    }

    public record Blockstore(String type, String path) {
    }

    /** Where heads live. */
    public Path headsPath() {
        return heads.root().isBlank() ? dataPath().resolve("heads") : Path.of(heads.root()).toAbsolutePath().normalize();
    }

    /** Which block store to use: the filesystem one by default on the embedded store (see docs/configuration.md). */
    public String blockstoreType() {
        String type = blockstore.type();
        if ("auto".equals(type)) {
            return mongodb.blockstoreUri().isBlank() ? "filesystem" : "mongodb";
        }
        if (!type.equals("filesystem") && !type.equals("mongodb")) {
            throw new ConfigException("blockstore.type must be auto, filesystem or mongodb, not '" + type + "'");
        }
        return type;
    }

    /** Root of the filesystem block store. */
    public Path blocksPath() {
        return blockstore.path().isBlank() ? dataPath().resolve("blocks") : Path.of(blockstore.path()).toAbsolutePath().normalize();
    }

    public Path dataPath() {
        return Path.of(dataDir).toAbsolutePath().normalize();
    }
}
