package io.tidemark.deploy;

import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "policy", description = "A job's snapshot schedule and retention policy.",
        subcommands = {PolicyCommand.Get.class, PolicyCommand.Set.class})
final class PolicyCommand {

    static String path(String job) {
        return "/jobs/" + URLEncoder.encode(job, StandardCharsets.UTF_8) + "/policy";
    }

    static String describe(JsonObject r) {
        JsonObject p = r.getJsonObject("policy");
        return String.format("job %s%s: snapshot every %d h, keep them %d d; daily %d d; weekly %d wk; monthly %d mo",
                r.getString("job"), r.getBoolean("default", false) ? " (defaults)" : "",
                p.getInteger("snapshotIntervalHours"), p.getInteger("intervalDays"), p.getInteger("dailyDays"),
                p.getInteger("weeklyWeeks"), p.getInteger("monthlyMonths"));
    }

    @Command(name = "get", description = "Show the policy in effect for the job.")
    static final class Get implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--job", required = true, description = "Job id or deployment name.")
        String job;

        @Override
        public void run() {
            try (AdminClient client = admin.client()) {
                JsonObject r = client.get(path(job));
                System.out.println(admin.json ? r.encodePrettily() : describe(r));
            }
        }
    }

    @Command(name = "set", description = "Change the job's policy; settings left out keep their current value.")
    static final class Set implements Runnable {
        @Mixin
        AdminOptions admin = new AdminOptions();

        @Option(names = "--job", required = true, description = "Job id or deployment name.")
        String job;

        @Option(names = "--interval-hours", description = "Hours between scheduled snapshots (1, 2, 3, 4, 6, 8, 12 or 24).")
        Integer intervalHours;

        @Option(names = "--keep-interval-days", description = "Days every scheduled snapshot is kept.")
        Integer intervalDays;

        @Option(names = "--keep-daily-days", description = "Days the first snapshot of each day is kept (0: none).")
        Integer dailyDays;

        @Option(names = "--keep-weekly-weeks", description = "Weeks the first snapshot of each week is kept (0: none).")
        Integer weeklyWeeks;

        @Option(names = "--keep-monthly-months", description = "Months the first snapshot of each month is kept (0: none).")
        Integer monthlyMonths;

        @Override
        public void run() {
            JsonObject body = new JsonObject();
            put(body, "snapshotIntervalHours", intervalHours);
            put(body, "intervalDays", intervalDays);
            put(body, "dailyDays", dailyDays);
            put(body, "weeklyWeeks", weeklyWeeks);
            put(body, "monthlyMonths", monthlyMonths);
            if (body.isEmpty()) {
                throw new CliException("nothing to change: give at least one of --interval-hours, --keep-interval-days, "
                        + "--keep-daily-days, --keep-weekly-weeks, --keep-monthly-months");
            }
            try (AdminClient client = admin.client()) {
                // The API takes PUT or POST for this route; the admin client speaks POST.
                JsonObject r = client.post(path(job), body);
                System.out.println(admin.json ? r.encodePrettily() : describe(r));
            }
        }

        private static void put(JsonObject body, String field, Integer value) {
            if (value != null) {
                body.put(field, value);
            }
        }
    }
}
