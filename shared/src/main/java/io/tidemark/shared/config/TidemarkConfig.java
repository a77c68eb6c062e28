package io.tidemark.shared.config;

import java.nio.file.Path;

/** The server's and agent's configuration, bound from tidemark-defaults.yaml, a file and the environment. */
public record TidemarkConfig(String dataDir, Mongodb mongodb, Ingest ingest, Api api, Agent agent) {

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

    public Path dataPath() {
        return Path.of(dataDir).toAbsolutePath().normalize();
    }
}
