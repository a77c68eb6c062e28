package io.tidemark.deploy;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** How admin commands reach the API; by default from the local data dir's credentials.json. */
final class AdminOptions {

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--url", description = "REST API base URL (default: the local server's).")
    String url;

    @Option(names = "--token", description = "Admin token (default: from <dataDir>/credentials.json).")
    String token;

    @Option(names = "--pin", description = "SHA-256 fingerprint of the API's certificate to trust.")
    String pin;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    AdminClient client() {
        return new AdminClient(common.load().dataPath(), url, token, pin);
    }
}
