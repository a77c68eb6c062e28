package io.tidemark.deploy;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;

@Command(name = "keys", description = "API keys: agent keys for the Backup HTTP service, admin tokens for the REST API.",
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand {

    @Command(name = "create", description = "Create a key; its token is shown once.")
    static final class Create implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--kind", defaultValue = "agent", description = "agent or admin (default agent).")
        String kind;

        @Option(names = "--name", description = "What the key is for.")
        String name;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject body = new JsonObject().put("kind", kind);
                if (name != null) {
                    body.put("name", name);
                }
                JsonObject k = client.post("/keys", body);
                System.out.println(admin.json ? k.encodePrettily()
                        : "created " + k.getString("kind").toLowerCase() + " key " + k.getString("id") + "\n" + k.getString("token")
                        + "\n(store it now: it is not shown again)");
            }
        }
    }

    @Command(name = "list", description = "List keys (never their secrets).")
    static final class ListKeys implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                var keys = client.get("/keys").getJsonArray("keys");
                if (admin.json) {
                    System.out.println(keys.encodePrettily());
                    return;
                }
                System.out.printf("%-14s %-7s %-28s %-22s %s%n", "ID", "KIND", "NAME", "CREATED", "REVOKED");
                for (Object o : keys) {
                    JsonObject k = (JsonObject) o;
                    System.out.printf("%-14s %-7s %-28s %-22s %s%n", k.getString("id"), k.getString("kind").toLowerCase(),
                            k.getString("name"), Instant.ofEpochMilli(k.getLong("createdAt")),
                            k.getLong("revokedAt") == null ? "-" : Instant.ofEpochMilli(k.getLong("revokedAt")));
                }
            }
        }
    }

    @Command(name = "revoke", description = "Revoke a key (effective within 30 seconds).")
    static final class Revoke implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Parameters(index = "0", description = "Key id.")
        String id;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject r = client.delete("/keys/" + id);
                System.out.println(admin.json ? r.encodePrettily() : "revoked key " + id);
            }
        }
    }
}
