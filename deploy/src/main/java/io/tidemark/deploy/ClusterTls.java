package io.tidemark.deploy;

import io.tidemark.shared.config.ConfigException;
import io.tidemark.shared.config.TidemarkConfig;
import io.tidemark.shared.security.OwnerOnly;
import io.tidemark.shared.security.SelfSignedTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The clustered event bus's TLS material: the configured pair, or, on one machine, the pair of
 * the server that owns the embedded store (made in its data dir, owner-only, as the store's
 * secret is), which every process joining that store reads from there. With external stores and
 * no pair configured the bus runs without TLS, and the server says so at start.
 */
final class ClusterTls {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterTls.class);
    static final String DIR = "cluster-tls";

    private ClusterTls() {
    }

    static TidemarkConfig.Cluster resolve(TidemarkConfig config) {
        TidemarkConfig.Cluster cluster = config.cluster();
        if (!cluster.enabled()) {
            return cluster;
        }
        if (cluster.tls()) {
            for (String file : new String[] {cluster.tlsCertFile(), cluster.tlsKeyFile()}) {
                if (!Files.isReadable(Path.of(file))) {
                    throw new ConfigException("cluster TLS file " + file + " cannot be read");
                }
            }
            OwnerOnly.requireSecret(Path.of(cluster.tlsKeyFile()));
            return cluster;
        }
        if (!config.mongodb().embedded()) {
            LOG.warn("the clustered event bus is not authenticated: any process that reaches cluster.port and the bus port can"
                    + " join it and send requests; set cluster.tlsCertFile and cluster.tlsKeyFile (one pair for every member,"
                    + " docs/scale-out.md) and keep both ports on the Tidemark processes' private network");
            return cluster;
        }
        Path owner = config.mongodb().embeddedDataPath(config.dataPath());
        Path dir = owner.resolve(DIR);
        if (owner.equals(config.dataPath())) {
            SelfSignedTls.Material made = SelfSignedTls.ensure(dir);
            return cluster.withTls(made.certFile().toString(), made.keyFile().toString());
        }
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        if (!Files.isReadable(cert) || !Files.isReadable(key)) {
            throw new ConfigException("the event bus's TLS pair is not in " + dir + " yet: start the server that owns the embedded"
                    + " store first, or set cluster.tlsCertFile and cluster.tlsKeyFile");
        }
        return cluster.withTls(cert.toString(), key.toString());
    }
}
