package io.tidemark.deploy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

@Command(name = "daemons", description = "Backup daemons: the registry, and the switches that assign and run jobs.",
        subcommands = {DaemonsCommand.ListDaemons.class, DaemonsCommand.SetDaemon.class, DaemonsCommand.Drain.class})
final class DaemonsCommand {

    @Command(name = "list", description = "Show every daemon: host, head disk, heartbeat, switches and jobs bound.")
    static final class ListDaemons implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonArray daemons = client.get("/daemons").getJsonArray("daemons");
                if (admin.json) {
                    System.out.println(daemons.encodePrettily());
                    return;
                }
                System.out.printf("%-12s %-20s %-10s %-10s %-24s %-6s %-10s %-10s %s%n", "ID", "HOST", "HEAD FREE", "HEAD USED",
                        "HEARTBEAT", "ALIVE", "ASSIGNMENT", "BACKUPJOBS", "JOBS");
                for (Object o : daemons) {
                    JsonObject d = (JsonObject) o;
                    StringBuilder jobs = new StringBuilder();
                    for (Object j : d.getJsonArray("jobs", new JsonArray())) {
                        JsonObject b = (JsonObject) j;
                        jobs.append(jobs.length() == 0 ? "" : ", ").append(b.getString("name", b.getString("job")))
                                .append(" (epoch ").append(b.getLong("epoch")).append(')');
                    }
                    System.out.printf("%-12s %-20s %-10s %-10s %-24s %-6s %-10s %-10s %s%n", d.getString("id"), d.getString("host"),
                            gb(d.getLong("headFreeBytes")), gb(d.getLong("headUsedBytes")),
                            Instant.ofEpochMilli(d.getLong("heartbeatAt", 0L)), d.getBoolean("alive", false) ? "yes" : "no",
                            onOff(d.getBoolean("assignment")), onOff(d.getBoolean("backupJobs")),
                            d.getInteger("jobsBound", 0) + (jobs.length() == 0 ? "" : ": " + jobs));
                }
            }
        }

        private static String gb(Long bytes) {
            return bytes == null ? "-" : String.format("%.1f GB", bytes / 1e9);
        }
    }

    @Command(name = "set", description = "Turn a daemon's switches on or off: assignment (receives new jobs), "
            + "backup jobs (runs its jobs; off for maintenance: its heads stop, its jobs stay bound to it).")
    static final class SetDaemon implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @picocli.CommandLine.Parameters(index = "0", paramLabel = "DAEMON", description = "Daemon id (see 'daemons list').")
        String daemon;

        @Option(names = "--assignment", paramLabel = "on|off", description = "May receive new jobs.")
        String assignment;

        @Option(names = "--backup-jobs", paramLabel = "on|off", description = "Runs its jobs.")
        String backupJobs;

        @Override
        public void run() {
            JsonObject body = new JsonObject();
            if (assignment != null) {
                body.put("assignment", onOff("--assignment", assignment));
            }
            if (backupJobs != null) {
                body.put("backupJobs", onOff("--backup-jobs", backupJobs));
            }
            if (body.isEmpty()) {
                throw new CliException("give --assignment on|off and/or --backup-jobs on|off");
            }
            try (AdminClient client = admin.client()) {
                JsonObject d = client.patch("/daemons/" + URLEncoder.encode(daemon, StandardCharsets.UTF_8), body);
                System.out.println(admin.json ? d.encodePrettily() : "daemon " + d.getString("id") + ": assignment "
                        + DaemonsCommand.onOff(d.getBoolean("assignment")) + ", backup jobs " + DaemonsCommand.onOff(d.getBoolean("backupJobs")));
            }
        }

        private static boolean onOff(String option, String value) {
            return switch (value) {
                case "on" -> true;
                case "off" -> false;
                default -> throw new CliException(option + " takes on or off, not '" + value + "'");
            };
        }
    }

    @Command(name = "drain", description = "Move all of a daemon's jobs to other daemons (\"move all heads\"), and turn its "
            + "assignment off so that it receives no new ones: for maintenance or before removing it.")
    static final class Drain implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @picocli.CommandLine.Parameters(index = "0", paramLabel = "DAEMON", description = "Daemon id (see 'daemons list').")
        String daemon;

        @Option(names = "--to", description = "Daemon that receives every job; without it, each goes where the binding rule says.")
        String to;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject body = to == null ? new JsonObject() : new JsonObject().put("to", to);
                JsonObject r = client.post("/daemons/" + URLEncoder.encode(daemon, StandardCharsets.UTF_8) + "/drain", body);
                if (admin.json) {
                    System.out.println(r.encodePrettily());
                    return;
                }
                System.out.println("daemon " + daemon + ": assignment off; " + r.getJsonArray("moving").size() + " jobs moving");
                for (Object o : r.getJsonArray("moving")) {
                    JsonObject m = (JsonObject) o;
                    System.out.println("  " + m.getString("job") + " -> daemon " + m.getString("to"));
                }
                for (Object o : r.getJsonArray("skipped")) {
                    JsonObject m = (JsonObject) o;
                    System.out.println("  " + m.getString("job") + " not moved: " + m.getString("error"));
                }
                System.out.println("'tidemark jobs list' shows their progress");
            }
        }
    }

    private static String onOff(Boolean b) {
        return b == null ? "-" : b ? "on" : "off";
    }
}
