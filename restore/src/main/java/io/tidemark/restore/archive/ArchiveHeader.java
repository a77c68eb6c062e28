package io.tidemark.restore.archive;

import java.util.Objects;

/**
 * The archive-level header that follows the magic number.
 *
 * @param concurrentCollections how many namespaces may be open (started but not yet at EOF) at
 *     once; mongorestore restores at least this many collections in parallel, and interleaving
 *     more namespaces than it has workers can stall its demultiplexer
 * @param serverVersion version of the source server, {@code major.minor.patch[-suffix]};
 *     mongorestore refuses an archive whose version it cannot parse and uses it to decide where
 *     time-series data lives
 * @param toolVersion free-form identification of the writer
 */
public record ArchiveHeader(int concurrentCollections, String serverVersion, String toolVersion) {

    /** The only archive format version mongo-tools has ever written. */
    public static final String FORMAT_VERSION = "0.1";

    public ArchiveHeader {
        Objects.requireNonNull(serverVersion, "serverVersion");
        Objects.requireNonNull(toolVersion, "toolVersion");
        if (concurrentCollections < 1) {
            throw new IllegalArgumentException("concurrentCollections must be >= 1");
        }
        parseVersion(serverVersion);
    }

    /**
     * From 8.3 on, time-series collections are "viewless": their data is dumped under the
     * collection's own name instead of {@code system.buckets.<name>}.
     */
    public boolean hasViewlessTimeseries() {
        int[] v = parseVersion(serverVersion);
        return v[0] > 8 || (v[0] == 8 && v[1] >= 3);
    }

    /** Same acceptance rule as mongo-tools: drop {@code -...}/{@code +...}, then exactly three integers. */
    static int[] parseVersion(String version) {
        String core = version;
        int cut = core.indexOf('-');
        if (cut >= 0) {
            core = core.substring(0, cut);
        }
        cut = core.indexOf('+');
        if (cut >= 0) {
            core = core.substring(0, cut);
        }
        String[] parts = core.split("\\.", 3);
        if (parts.length != 3) {
            throw new IllegalArgumentException("server version is not major.minor.patch: " + version);
        }
        int[] out = new int[3];
        for (int i = 0; i < 3; i++) {
            try {
                out[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("server version is not major.minor.patch: " + version, e);
            }
        }
        return out;
    }
}
