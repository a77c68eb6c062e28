package io.tidemark.agent;

import io.tidemark.shared.config.TidemarkConfig;

import java.nio.file.Path;

/** What an agent needs: the source, its deployment name, the service and how to trust it, tuning. */
public record AgentSettings(String sourceUri, String deployment, String serverUrl, String apiKey,
                            String pinSha256, Path caFile, TidemarkConfig.Agent tuning) {

    /** Never shows the API key: settings end up in log lines and exception messages. */
    @Override
    public String toString() {
        return "AgentSettings[sourceUri=" + sourceUri.replaceAll("//[^@/]*@", "//***@") + ", deployment=" + deployment
                + ", serverUrl=" + serverUrl + ", apiKey=***, pinSha256=" + pinSha256 + ", caFile=" + caFile + "]";
    }
}
