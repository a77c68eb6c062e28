package io.tidemark.groomer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shared.oplog.OpTime;
import io.tidemark.shared.snapshots.RetentionPolicy;
import io.vertx.core.json.JsonObject;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class RetentionPlannerTest {

    private static final RetentionPolicy OPS_MANAGER = RetentionPolicy.DEFAULT;

    private static CatalogEntry snap(Instant t) {
        return new CatalogEntry("s" + t.toEpochMilli(), "job", new OpTime(t.getEpochSecond(), 1), t,
                CatalogEntry.State.COMPLETE, null, 100);
    }

    private static Instant utc(int y, int m, int d, int h) {
        return ZonedDateTime.of(y, m, d, h, 0, 0, 0, ZoneOffset.UTC).toInstant();
    }

    private static Set<Instant> keptTimes(List<CatalogEntry> all, RetentionPlanner.Plan plan) {
        Set<Instant> out = new TreeSet<>();
        for (CatalogEntry e : all) {
            if (plan.keep().containsKey(e.id())) {
                out.add(e.createdAt());
            }
        }
        return out;
    }

    @Test
    void theDefaultsAreOpsManagers() {
        assertEquals(new RetentionPolicy(6, 2, 7, 4, 13), RetentionPolicy.DEFAULT);
    }

    @Test
    void intervalRetentionEndsExactlyAtItsAge() {
        Instant now = utc(2024, 3, 13, 12);
        RetentionPolicy intervalOnly = new RetentionPolicy(6, 2, 0, 0, 0);
        CatalogEntry exactlyTwoDays = snap(now.minus(Duration.ofDays(2)));
        CatalogEntry justYounger = snap(now.minus(Duration.ofDays(2)).plusMillis(1));
        CatalogEntry newest = snap(now.minus(Duration.ofHours(1)));
        RetentionPlanner.Plan plan = RetentionPlanner.plan(List.of(exactlyTwoDays, justYounger, newest), intervalOnly,
                now, Set.of());
        assertEquals(List.of(exactlyTwoDays), plan.expire());
        assertEquals(Set.of(RetentionPlanner.Reason.INTERVAL), plan.keep().get(justYounger.id()));
        assertTrue(plan.keep().get(newest.id()).contains(RetentionPlanner.Reason.NEWEST));
    }

    @Test
    void dailyWeeklyAndMonthlyKeepTheEarliestOfTheirPeriodUntilTheirAge() {
        // Wednesday 2024-05-15 12:00 UTC.
        Instant now = utc(2024, 5, 15, 12);
        RetentionPolicy p = OPS_MANAGER;
        // Daily: the earliest of 2024-05-08 is exactly 7 days + 12 h old (gone); of 2024-05-09, 6 days + 12 h (kept).
        CatalogEntry day8 = snap(utc(2024, 5, 8, 0));
        CatalogEntry day8later = snap(utc(2024, 5, 8, 6));
        CatalogEntry day9 = snap(utc(2024, 5, 9, 0));
        CatalogEntry day9later = snap(utc(2024, 5, 9, 6));
        // Weekly: Monday 2024-04-22 00:00 is 23.5 days old (kept, < 28), Monday 2024-04-15 30.5 days (gone).
        CatalogEntry week22 = snap(utc(2024, 4, 22, 0));
        CatalogEntry week22tuesday = snap(utc(2024, 4, 23, 0));
        CatalogEntry week15 = snap(utc(2024, 4, 15, 0));
        // Monthly: 2023-04-01 is older than 13 months (gone: 2023-04-15 12:00 is the cut), 2023-05-01 kept.
        CatalogEntry apr2023 = snap(utc(2023, 4, 1, 0));
        CatalogEntry may2023 = snap(utc(2023, 5, 1, 0));
        CatalogEntry may2023second = snap(utc(2023, 5, 2, 0));
        // The earliest of their week (Monday 2024-05-06) and month (2024-04-01, 2024-05-01), so that
        // the snapshots above stand for nothing but their day.
        CatalogEntry may6 = snap(utc(2024, 5, 6, 0));
        CatalogEntry apr1 = snap(utc(2024, 4, 1, 0));
        CatalogEntry may1 = snap(utc(2024, 5, 1, 0));
        CatalogEntry newest = snap(utc(2024, 5, 15, 6));
        List<CatalogEntry> all = List.of(day8, day8later, day9, day9later, week22, week22tuesday, week15, apr2023,
                may2023, may2023second, may6, apr1, may1, newest);
        RetentionPlanner.Plan plan = RetentionPlanner.plan(all, p, now, Set.of());
        assertEquals(Set.of(RetentionPlanner.Reason.DAILY), plan.keep().get(day9.id()));
        assertEquals(Set.of(RetentionPlanner.Reason.WEEKLY), plan.keep().get(week22.id()));
        assertEquals(Set.of(RetentionPlanner.Reason.MONTHLY), plan.keep().get(may2023.id()));
        assertEquals(Set.of(RetentionPlanner.Reason.MONTHLY), plan.keep().get(apr1.id()));
        assertEquals(Set.of(RetentionPlanner.Reason.WEEKLY, RetentionPlanner.Reason.MONTHLY), plan.keep().get(may1.id()));
        assertEquals(Set.of(RetentionPlanner.Reason.WEEKLY), plan.keep().get(may6.id()));
        assertEquals(Set.of(day8.id(), day8later.id(), day9later.id(), week22tuesday.id(), week15.id(), apr2023.id(),
                may2023second.id()), ids(plan.expire()));
    }

    @Test
    void theNewestAndInFlightBasesNeverExpire() {
        Instant now = utc(2030, 1, 1, 0);
        RetentionPolicy minimal = new RetentionPolicy(24, 1, 0, 0, 0);
        CatalogEntry old = snap(utc(2020, 1, 1, 3));
        CatalogEntry base = snap(utc(2020, 1, 2, 3));
        CatalogEntry newest = snap(utc(2020, 1, 3, 3));
        RetentionPlanner.Plan plan = RetentionPlanner.plan(List.of(old, base, newest), minimal, now, Set.of(base.id()));
        assertEquals(List.of(old), plan.expire());
        assertEquals(Set.of(RetentionPlanner.Reason.IN_FLIGHT_BASE), plan.keep().get(base.id()));
        assertEquals(Set.of(RetentionPlanner.Reason.NEWEST), plan.keep().get(newest.id()));
    }

    /**
     * Fifteen months of a 6-hourly schedule, groomed after every snapshot with a clock that
     * moves with it: at several moments the remaining snapshots are exactly those the policy
     * names, computed here from the calendar rather than by the planner.
     */
    @Test
    void groomingAsTimePassesKeepsExactlyWhatThePolicyNames() {
        Instant start = utc(2023, 1, 1, 0);
        Instant end = utc(2024, 4, 10, 18);
        Set<Instant> checkpoints = Set.of(utc(2023, 2, 15, 12), utc(2023, 12, 31, 18), utc(2024, 3, 1, 0), end);
        List<CatalogEntry> live = new ArrayList<>();
        int checked = 0;
        for (Instant t = start; !t.isAfter(end); t = t.plus(Duration.ofHours(6))) {
            live.add(snap(t));
            RetentionPlanner.Plan plan = RetentionPlanner.plan(live, OPS_MANAGER, t, Set.of());
            Set<String> gone = ids(plan.expire());
            live.removeIf(e -> gone.contains(e.id()));
            if (checkpoints.contains(t)) {
                assertEquals(expected(start, t), new TreeSet<>(live.stream().map(CatalogEntry::createdAt).toList()),
                        "at " + t);
                // One plan over what is left changes nothing: grooming again is a no-op.
                assertTrue(RetentionPlanner.plan(live, OPS_MANAGER, t, Set.of()).expire().isEmpty());
                checked++;
            }
        }
        assertEquals(4, checked);
    }

    /** The 6-hourly snapshot times the default policy keeps at {@code now}, by the calendar. */
    private static Set<Instant> expected(Instant start, Instant now) {
        Set<Instant> out = new TreeSet<>();
        ZonedDateTime n = now.atZone(ZoneOffset.UTC);
        for (Instant t = start; !t.isAfter(now); t = t.plus(Duration.ofHours(6))) {
            ZonedDateTime z = t.atZone(ZoneOffset.UTC);
            Duration age = Duration.between(t, now);
            boolean midnight = z.getHour() == 0;
            boolean interval = age.compareTo(Duration.ofDays(2)) < 0;
            boolean daily = midnight && age.compareTo(Duration.ofDays(7)) < 0;
            boolean weekly = midnight && z.getDayOfWeek() == DayOfWeek.MONDAY && age.compareTo(Duration.ofDays(28)) < 0;
            boolean monthly = midnight && z.getDayOfMonth() == 1 && z.isAfter(n.minusMonths(13));
            if (interval || daily || weekly || monthly || t.equals(now)) {
                out.add(t);
            }
        }
        return out;
    }

    @Test
    void invalidPoliciesAreRefusedNamingEveryProblem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RetentionPolicy(5, 0, -1, 0, 0));
        assertTrue(e.getMessage().contains("snapshotIntervalHours"), e.getMessage());
        assertTrue(e.getMessage().contains("intervalDays"), e.getMessage());
        assertTrue(e.getMessage().contains("dailyDays"), e.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> RetentionPolicy.fromJson(new JsonObject().put("dailyDayz", 3), RetentionPolicy.DEFAULT));
        assertTrue(unknown.getMessage().contains("dailyDayz"), unknown.getMessage());
        IllegalArgumentException fraction = assertThrows(IllegalArgumentException.class,
                () -> RetentionPolicy.fromJson(new JsonObject().put("dailyDays", 1.5), RetentionPolicy.DEFAULT));
        assertTrue(fraction.getMessage().contains("whole number"), fraction.getMessage());
        assertEquals(new RetentionPolicy(6, 2, 3, 4, 13),
                RetentionPolicy.fromJson(new JsonObject().put("dailyDays", 3), RetentionPolicy.DEFAULT));
    }

    private static Set<String> ids(List<CatalogEntry> entries) {
        Set<String> out = new HashSet<>();
        entries.forEach(e -> out.add(e.id()));
        return out;
    }
}
