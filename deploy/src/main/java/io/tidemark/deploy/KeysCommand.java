package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

@Command(name = "keys", description = "API keys: agent keys for the Backup HTTP service, admin tokens for the REST API.",
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Scope.class, KeysCommand.Revoke.class})
final class KeysCommand {

    @Command(name = "create", description = "Create a key; its token is shown once.")
    static final class Create implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--kind", defaultValue = "agent", description = "agent or admin (default agent).")
        String kind;

        @Option(names = "--name", description = "What the key is for.")
        String name;

        @Option(names = "--deployment", paramLabel = "NAME",
                description = "Agent keys: a deployment the key may act for (repeatable). A key created with deployments is "
                        + "limited to exactly those; without, it may act for the deployments it is first to register.")
        List<String> deployments;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject body = new JsonObject().put("kind", kind);
                if (name != null) {
                    body.put("name", name);
                }
                if (deployments != null) {
                    body.put("deployments", new JsonArray(deployments));
                }
                JsonObject k = client.post("/keys", body);
                System.out.println(admin.json ? k.encodePrettily()
                        : "created " + k.getString("kind").toLowerCase() + " key " + k.getString("id") + scopeText(k) + "\n"
                        + k.getString("token") + "\n(store it now: it is not shown again)");
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
                System.out.printf("%-14s %-7s %-28s %-22s %-22s %s%n", "ID", "KIND", "NAME", "CREATED", "REVOKED", "SCOPE");
                for (Object o : keys) {
                    JsonObject k = (JsonObject) o;
                    System.out.printf("%-14s %-7s %-28s %-22s %-22s %s%n", k.getString("id"), k.getString("kind").toLowerCase(),
                            k.getString("name"), Instant.ofEpochMilli(k.getLong("createdAt")),
                            k.getLong("revokedAt") == null ? "-" : Instant.ofEpochMilli(k.getLong("revokedAt")),
                            k.containsKey("deployments") ? scopeText(k).trim() : "-");
                }
            }
        }
    }

    @Command(name = "scope", description = "Widen or narrow the deployments an agent key may act for "
            + "(other front ends apply a narrowing within 5 seconds).")
    static final class Scope implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Parameters(index = "0", description = "Agent key id.")
        String id;

        @Option(names = "--add", paramLabel = "NAME", description = "A deployment to add (repeatable).")
        List<String> add = new ArrayList<>();

        @Option(names = "--remove", paramLabel = "NAME", description = "A deployment to remove (repeatable).")
        List<String> remove = new ArrayList<>();

        @Option(names = "--growing", arity = "1", paramLabel = "true|false",
                description = "Whether the key's first registration of a new deployment adds it to the scope.")
        Boolean growing;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject body = new JsonObject().put("add", new JsonArray(add)).put("remove", new JsonArray(remove));
                if (growing != null) {
                    body.put("growing", growing);
                }
                JsonObject k = client.post("/keys/" + id + "/scope", body);
                System.out.println(admin.json ? k.encodePrettily() : "key " + id + scopeText(k));
            }
        }
    }

    /** " may act for [a, b] (and the deployments it registers)". */
    static String scopeText(JsonObject key) {
        if (!key.containsKey("deployments")) {
            return "";
        }
        return " may act for " + key.getJsonArray("deployments").encode()
                + (key.getBoolean("growing", false) ? " and the new deployments it registers" : " only");
    }

    @Command(name = "revoke", description = "Revoke a key (effective at once; within 5 seconds on a front end that misses the notice).")
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
