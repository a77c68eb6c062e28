package io.tidemark.shared.config;

import java.nio.file.Path;

/** The server's and agent's configuration, bound from tidemark-defaults.yaml, a file and the environment. */
public record TidemarkConfig(String dataDir, Mongodb mongodb, Ingest ingest, Api api, Agent agent,
                             Heads heads, Snapshots snapshots, Blockstore blockstore,
                             Restore restore, Groom groom, Storage storage, Cluster cluster,
                             Daemons daemons) {

    /**
     * @param embeddedDataDir for a {@code --roles frontend|daemon} process with no URIs: the data
     *     dir of the {@code server} process whose embedded store (at {@code embeddedPort}) it
     *     joins, reading the store's secret from there; empty: this process's own data dir
     */
    public record Mongodb(String metadataUri, String blockstoreUri, int embeddedPort, String embeddedDataDir) {
        public boolean embedded() {
            return metadataUri.isBlank() && blockstoreUri.isBlank();
        }

        /** The data dir whose embedded store a process joins (it does not run its own). */
        public java.nio.file.Path embeddedDataPath(java.nio.file.Path ownDataDir) {
            return embeddedDataDir.isBlank() ? ownDataDir : java.nio.file.Path.of(embeddedDataDir).toAbsolutePath().normalize();
        }
    }

    /**
     * Daemons and their job bindings (docs/scale-out.md).
     *
     * @param leaseSeconds how long a job's binding lasts without renewal; the owner renews it
     *     every {@code renewSeconds}, and a daemon's heartbeat older than this counts as gone
     * @param renewSeconds how often an owner renews its leases
     * @param heartbeatSeconds how often a daemon rewrites its registry entry
     */
    /**
     * @param failover whether a job whose owner's lease ran out moves to a surviving daemon by itself
     */
    public record Daemons(int leaseSeconds, int renewSeconds, int heartbeatSeconds, boolean failover) {
        public Daemons {
            if (renewSeconds < 1 || heartbeatSeconds < 1) {
                throw new ConfigException("daemons.renewSeconds and daemons.heartbeatSeconds must be at least 1");
            }
            if (leaseSeconds < 3 * renewSeconds) {
                throw new ConfigException("daemons.leaseSeconds (" + leaseSeconds + ") must be at least three times "
                        + "daemons.renewSeconds (" + renewSeconds + "), or a lease lapses between two renewals");
            }
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

    /**
     * @param maxBytesInFlight request bodies being read or awaiting their durable write, summed over
     *     all agents; a request that would exceed it gets 503 with Retry-After, unread
     * @param requestIdleSeconds a request whose headers or body stop arriving for this long is cut
     */
    public record Ingest(String host, int port, long maxBodyBytes, long maxBytesInFlight, int requestIdleSeconds, Tls tls) {
        public Ingest {
            if (maxBodyBytes < 1) {
                throw new ConfigException("ingest.maxBodyBytes must be positive, not " + maxBodyBytes);
            }
            if (maxBytesInFlight < maxBodyBytes) {
                throw new ConfigException("ingest.maxBytesInFlight (" + maxBytesInFlight
                        + ") must be at least ingest.maxBodyBytes (" + maxBodyBytes + "), or no largest body could ever be read");
            }
            if (requestIdleSeconds < 1) {
                throw new ConfigException("ingest.requestIdleSeconds must be at least 1, not " + requestIdleSeconds);
            }
        }
    }

    /** @param requestIdleSeconds a request whose headers or body stop arriving for this long is cut */
    public record Api(String host, int port, int requestIdleSeconds, ApiTls tls) {
        public Api {
            if (requestIdleSeconds < 1) {
                throw new ConfigException("api.requestIdleSeconds must be at least 1, not " + requestIdleSeconds);
            }
        }
    }

    public record Agent(int batchMaxBytes, int batchMaxMillis, int sliceBytes, int slicesInFlight,
                        int heartbeatSeconds, int pollMillis) {
    }

    public record Heads(String root, int prefetchBatches, long blockCacheBytes, long memtableBytes, long documentCacheBytes) {
        public Heads {
            if (documentCacheBytes < 0) {
                throw new ConfigException("heads.documentCacheBytes must not be negative, not " + documentCacheBytes);
            }
        }
    }

    /**
     * @param deltas whether a snapshot may store only what changed since its parent (see
     *     docs/operations.md, "Delta snapshots")
     * @param deltaMaxDepth deltas a chain may hold after its full snapshot
     * @param deltaMaxChainShare delta bytes a chain may hold, as a share of its full snapshot's bytes
     */
    public record Snapshots(int intervalMinutes, int chunkMinBytes, int chunkAvgBytes, int chunkMaxBytes,
                            int compressionLevel, boolean deltas, int deltaMaxDepth, double deltaMaxChainShare) {
        public Snapshots {
            if (deltaMaxDepth < 1) {
                throw new ConfigException("snapshots.deltaMaxDepth must be at least 1, not " + deltaMaxDepth);
            }
            if (!(deltaMaxChainShare > 0)) {
                throw new ConfigException("snapshots.deltaMaxChainShare must be positive, not " + deltaMaxChainShare);
            }
        }
    }

    public record Blockstore(String type, String path) {
    }

    /**
     * Grooming: retention, oplog-window trimming and block garbage collection (see
     * docs/operations.md, "Retention and grooming").
     *
     * @param intervalMinutes how often retention and oplog trimming run for every job
     * @param unreferencedShareThreshold a block sweep runs when the estimated share of stored bytes
     *     no live snapshot references reaches this (0–1)
     * @param blockGraceMinutes blocks younger than this are never swept
     */
    public record Groom(int intervalMinutes, double unreferencedShareThreshold, int blockGraceMinutes) {
        public Groom {
            if (intervalMinutes < 1) {
                throw new ConfigException("groom.intervalMinutes must be at least 1, not " + intervalMinutes);
            }
            if (!(unreferencedShareThreshold > 0 && unreferencedShareThreshold <= 1)) {
                throw new ConfigException("groom.unreferencedShareThreshold must be in (0, 1], not " + unreferencedShareThreshold);
            }
            if (blockGraceMinutes < 0) {
                throw new ConfigException("groom.blockGraceMinutes must not be negative, not " + blockGraceMinutes);
            }
        }
    }

    /** @param linkTtlMinutes how long a restore's single-use download link stays valid */
    public record Restore(int pitWindowHours, String tempDir, int linkTtlMinutes) {
        public Restore {
            if (linkTtlMinutes < 1) {
                throw new ConfigException("restore.linkTtlMinutes must be at least 1, not " + linkTtlMinutes);
            }
        }
    }

    /**
     * Free-space thresholds and the storage health probe (docs/operations.md, "Full disks").
     *
     * @param minFreeBytes below this many usable bytes on the data dir's, the heads' or the blocks'
     *     file system, no new snapshot or head build starts
     * @param minFreePercent the same as a share of the file system's size; either threshold stops them
     * @param probeSeconds how often free space is measured and, while degraded, the store and the
     *     directories are probed with a small write
     */
    public record Storage(long minFreeBytes, double minFreePercent, int probeSeconds) {
        public Storage {
            if (minFreeBytes < 0) {
                throw new ConfigException("storage.minFreeBytes must not be negative, not " + minFreeBytes);
            }
            if (minFreePercent < 0 || minFreePercent >= 100) {
                throw new ConfigException("storage.minFreePercent must be from 0 to under 100, not " + minFreePercent);
            }
            if (probeSeconds < 1) {
                throw new ConfigException("storage.probeSeconds must be at least 1, not " + probeSeconds);
            }
        }
    }

    /**
     * The clustered event bus (docs/scale-out.md, "Clustered event bus"): off, the process's
     * Vert.x is not clustered. On, it joins the Hazelcast cluster {@code name} through the
     * configured TCP {@code members} (never multicast), binding {@code host} only.
     *
     * @param host the address Hazelcast and the event bus bind, and announce unless {@code publicHost} is set
     * @param publicHost the address other members reach this one at (behind NAT or in containers); empty: {@code host}
     * @param port Hazelcast's member port
     * @param busPort the event bus's TCP port (0: any free port; it is announced through Hazelcast)
     * @param members comma-separated {@code host[:port]} of members to join (this one may be among them)
     * @param tlsCertFile the cluster's certificate (PEM), the same on every member: the event bus runs
     *     TLS with client authentication, and a member is accepted only with this certificate
     * @param tlsKeyFile its private key (PEM)
     */
    public record Cluster(boolean enabled, String name, String host, String publicHost, int port, int busPort, String members,
                          String tlsCertFile, String tlsKeyFile) {
        public Cluster {
            tlsCertFile = tlsCertFile == null ? "" : tlsCertFile;
            tlsKeyFile = tlsKeyFile == null ? "" : tlsKeyFile;
            if (tlsCertFile.isBlank() != tlsKeyFile.isBlank()) {
                throw new ConfigException("cluster.tlsCertFile and cluster.tlsKeyFile go together: set both or neither");
            }
            if (enabled && (name == null || name.isBlank())) {
                throw new ConfigException("cluster.name must be set when cluster.enabled is true");
            }
            if (port < 1 || port > 65535) {
                throw new ConfigException("cluster.port must be a TCP port, not " + port);
            }
            if (busPort < 0 || busPort > 65535) {
                throw new ConfigException("cluster.busPort must be 0 or a TCP port, not " + busPort);
            }
        }

        /** Whether the event bus runs TLS with client authentication. */
        public boolean tls() {
            return !tlsCertFile.isBlank();
        }

        /** The same cluster with the event bus's TLS material. */
        public Cluster withTls(String certFile, String keyFile) {
            return new Cluster(enabled, name, host, publicHost, port, busPort, members, certFile, keyFile);
        }

        /** The members as listed, trimmed, without empty entries. */
        public java.util.List<String> memberList() {
            return java.util.Arrays.stream(members.split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList();
        }
    }

    /** Where heads live. */
    public Path headsPath() {
        return heads.root().isBlank() ? dataPath().resolve("heads") : Path.of(heads.root()).toAbsolutePath().normalize();
    }

    /**
     * Which block store to use: without a blockstore URI the packed one, since the embedded store
     * is too slow for block data and a file per block costs more than the rest of a snapshot
     * (see docs/configuration.md).
     */
    public String blockstoreType() {
        String type = blockstore.type();
        if ("auto".equals(type)) {
            return mongodb.blockstoreUri().isBlank() ? "packed" : "mongodb";
        }
        if (!type.equals("packed") && !type.equals("filesystem") && !type.equals("mongodb")) {
            throw new ConfigException("blockstore.type must be auto, packed, filesystem or mongodb, not '" + type + "'");
        }
        return type;
    }

    /** Root of the packed or filesystem block store. */
    public Path blocksPath() {
        return blockstore.path().isBlank() ? dataPath().resolve("blocks") : Path.of(blockstore.path()).toAbsolutePath().normalize();
    }

    /** Where point-in-time restores build their temporary heads. */
    public Path restoreTempPath() {
        return restore.tempDir().isBlank() ? dataPath().resolve("restore-tmp") : Path.of(restore.tempDir()).toAbsolutePath().normalize();
    }

    public Path dataPath() {
        return Path.of(dataDir).toAbsolutePath().normalize();
    }
}
