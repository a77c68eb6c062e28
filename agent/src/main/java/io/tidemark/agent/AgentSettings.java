package io.tidemark.agent;

import io.tidemark.shared.config.TidemarkConfig;

import java.nio.file.Path;

/** What an agent needs: the source, its deployment name, the service and how to trust it, tuning. */
public record AgentSettings(String sourceUri, String deployment, String serverUrl, String apiKey,
                            String pinSha256, Path caFile, TidemarkConfig.Agent tuning) {
}
