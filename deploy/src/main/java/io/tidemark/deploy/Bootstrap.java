package io.tidemark.deploy;

import io.tidemark.shared.security.ApiKeys;
import io.tidemark.shared.security.CredentialsFile;
import io.tidemark.shared.store.Stores;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * First start: creates the first admin token and agent key and writes them once to
 * {@code <dataDir>/credentials.json}; the store keeps only their hashes.
 */
final class Bootstrap {

    private static final Logger LOG = LoggerFactory.getLogger(Bootstrap.class);

    private Bootstrap() {
    }

    private static void writeOnce(Path dataDir, String adminToken, String agentKey) {
        Path file = CredentialsFile.path(dataDir);
        try {
            if (Files.exists(file)) {
                Path old = dataDir.resolve(CredentialsFile.NAME + ".replaced-" + System.currentTimeMillis());
                Files.move(file, old);
                LOG.warn("the store holds no admin key but {} existed; kept it as {}", file, old);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        CredentialsFile.writeSecrets(dataDir, adminToken, agentKey);
        LOG.info("created the first admin token and agent key; written once to {} (mode 0600)", file);
    }

    static Future<Void> ensureCredentials(Vertx vertx, Stores stores, Path dataDir) {
        return scopeOlderAgentKeys(stores).compose(v -> ensureAdmin(vertx, stores, dataDir));
    }

    /**
     * Agent keys from before scopes reached every deployment. Locking them out would stop their
     * agents at the upgrade, and nothing records which key registered which deployment before it,
     * so each keeps the deployments that exist now and grows by those it registers from now on.
     * Said loudly, so that an operator narrows a key shared by nobody else.
     */
    private static Future<Void> scopeOlderAgentKeys(Stores stores) {
        return stores.jobs().list()
                .compose(jobs -> stores.keys().scopeUnscopedAgentKeys(jobs.stream().map(j -> j.getString("name")).toList())
                        .map(ids -> {
                            ids.forEach(id -> LOG.warn("agent key {} predates key scopes; it is now scoped to the {} deployments"
                                    + " that exist and those it registers from now on; narrow it with 'tidemark keys scope {}"
                                    + " --remove <deployment>' (see docs/security.md)", id, jobs.size(), id));
                            return null;
                        }));
    }

    private static Future<Void> ensureAdmin(Vertx vertx, Stores stores, Path dataDir) {
        ApiKeys keys = stores.keys();
        return keys.anyActive(ApiKeys.Kind.ADMIN).compose(any -> {
            if (any) {
                return Future.succeededFuture();
            }
            return keys.create(ApiKeys.Kind.ADMIN, "initial admin token")
                    .compose(admin -> keys.create(ApiKeys.Kind.AGENT, "initial agent key")
                            // File I/O: on a worker, never on the event loop.
                            .compose(agent -> vertx.executeBlocking(() -> {
                                writeOnce(dataDir, admin.token(), agent.token());
                                return null;
                            })));
        });
    }
}
