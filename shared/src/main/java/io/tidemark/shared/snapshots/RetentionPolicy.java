package io.tidemark.shared.snapshots;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * How often a job is snapshotted and which snapshots are kept, as Ops Manager's snapshot
 * schedule has it: snapshots every {@code snapshotIntervalHours}, all of them kept
 * {@code intervalDays}; one a day kept {@code dailyDays}; one a week kept {@code weeklyWeeks};
 * one a month kept {@code monthlyMonths}. Which snapshot stands for a day, week or month is the
 * groomer's retention planner's business (the earliest of it, in UTC).
 *
 * <p>A zero daily, weekly or monthly retention turns that tier off. The interval tier cannot be
 * turned off: a schedule whose own snapshots expire at once would keep only the newest.
 */
public record RetentionPolicy(int snapshotIntervalHours, int intervalDays, int dailyDays, int weeklyWeeks,
                              int monthlyMonths) {

    /** The JSON field names, as the REST API and the {@code retentionPolicies} collection use them. */
    public static final Set<String> FIELDS = Set.of("snapshotIntervalHours", "intervalDays", "dailyDays",
            "weeklyWeeks", "monthlyMonths");

    /**
     * Intervals that divide a day, so the schedule lands at the same hours every day (Ops
     * Manager offers 6, 8, 12 and 24; shorter ones cost snapshots, not correctness).
     */
    private static final Set<Integer> INTERVALS = Set.of(1, 2, 3, 4, 6, 8, 12, 24);

    /** Ops Manager's defaults: every 6 hours kept 2 days, daily 7 days, weekly 4 weeks, monthly 13 months. */
    public static final RetentionPolicy DEFAULT = new RetentionPolicy(6, 2, 7, 4, 13);

    public RetentionPolicy {
        List<String> problems = new ArrayList<>();
        if (!INTERVALS.contains(snapshotIntervalHours)) {
            problems.add("snapshotIntervalHours must divide a day (1, 2, 3, 4, 6, 8, 12 or 24), got " + snapshotIntervalHours);
        }
        range(problems, "intervalDays", intervalDays, 1, 365);
        range(problems, "dailyDays", dailyDays, 0, 365);
        range(problems, "weeklyWeeks", weeklyWeeks, 0, 104);
        range(problems, "monthlyMonths", monthlyMonths, 0, 120);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid retention policy: " + String.join("; ", problems));
        }
    }

    private static void range(List<String> problems, String name, int value, int min, int max) {
        if (value < min || value > max) {
            problems.add(name + " must be between " + min + " and " + max + ", got " + value);
        }
    }

    /**
     * Reads a policy from JSON; fields left out keep their value in {@code base}, so a client may
     * change one setting. Unknown fields and non-integers are refused with a message naming them.
     */
    public static RetentionPolicy fromJson(JsonObject json, RetentionPolicy base) {
        Set<String> unknown = new TreeSet<>(json.fieldNames());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown retention policy fields " + unknown + "; allowed: "
                    + new TreeSet<>(FIELDS));
        }
        return new RetentionPolicy(
                integer(json, "snapshotIntervalHours", base.snapshotIntervalHours),
                integer(json, "intervalDays", base.intervalDays),
                integer(json, "dailyDays", base.dailyDays),
                integer(json, "weeklyWeeks", base.weeklyWeeks),
                integer(json, "monthlyMonths", base.monthlyMonths));
    }

    private static int integer(JsonObject json, String field, int fallback) {
        Object v = json.getValue(field);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                && n.doubleValue() >= Integer.MIN_VALUE && n.doubleValue() <= Integer.MAX_VALUE) {
            return n.intValue();
        }
        throw new IllegalArgumentException("retention policy field '" + field + "' must be a whole number, got " + v);
    }

    public JsonObject toJson() {
        return new JsonObject()
                .put("snapshotIntervalHours", snapshotIntervalHours)
                .put("intervalDays", intervalDays)
                .put("dailyDays", dailyDays)
                .put("weeklyWeeks", weeklyWeeks)
                .put("monthlyMonths", monthlyMonths);
    }
}
