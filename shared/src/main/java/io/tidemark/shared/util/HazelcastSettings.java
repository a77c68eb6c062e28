package io.tidemark.shared.util;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.tidemark.shared.config.ConfigException;
import io.tidemark.shared.config.TidemarkConfig;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;

/**
 * The Hazelcast member configuration of a clustered Tidemark process, from {@code cluster.*}:
 * Vert.x's own map and multimap settings ({@code default-cluster.xml}), then everything about the
 * network taken out of Hazelcast's defaults, which assume an open LAN: no multicast or cloud
 * discovery (members are the configured TCP addresses), no binding to every interface, no port
 * auto-increment (a second process on a taken port fails loudly instead of joining elsewhere), no
 * phone-home call to hazelcast.com, and logging through slf4j at the levels the server sets.
 */
final class HazelcastSettings {

    private HazelcastSettings() {
    }

    static Config of(TidemarkConfig.Cluster cluster) {
        // Read by Hazelcast before it reads the member config, for the first lines it logs.
        System.setProperty("hazelcast.logging.type", "slf4j");
        System.setProperty("hazelcast.phone.home.enabled", "false");
        Config config = ConfigUtil.loadConfig();
        config.setClusterName(cluster.name());
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        // The server's own close leaves the cluster; Hazelcast's hook would leave it first, under
        // verticles still publishing.
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        config.setProperty("hazelcast.socket.bind.any", "false");
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(cluster.port()).setPortAutoIncrement(false);
        network.getInterfaces().setEnabled(true).setInterfaces(java.util.List.of(cluster.host()));
        if (!cluster.publicHost().isBlank()) {
            network.setPublicAddress(cluster.publicHost() + ":" + cluster.port());
        }
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getAwsConfig().setEnabled(false);
        join.getKubernetesConfig().setEnabled(false);
        if (cluster.memberList().isEmpty()) {
            throw new ConfigException("cluster.members must list at least one member (host[:port]) when cluster.enabled is true");
        }
        join.getTcpIpConfig().setEnabled(true).setMembers(cluster.memberList());
        return config;
    }
}
