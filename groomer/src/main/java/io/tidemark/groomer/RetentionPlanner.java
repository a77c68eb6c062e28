package io.tidemark.groomer;

import io.tidemark.shared.snapshots.RetentionPolicy;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Decides which complete snapshots a retention policy keeps at a given moment; everything else
 * expires. Pure: the caller passes the moment, so tests run months of schedule in milliseconds.
 *
 * <p>The rules, all in UTC and judged by each snapshot's {@code createdAt} (when it was taken,
 * which is what a schedule and an operator count in), ages measured from {@code now}:
 * <ul>
 * <li><b>interval</b>: every snapshot younger than {@code intervalDays} days;
 * <li><b>daily</b>: the earliest snapshot of each calendar day, while younger than
 *     {@code dailyDays} days;
 * <li><b>weekly</b>: the earliest snapshot of each ISO week (Monday 00:00 to Monday 00:00),
 *     while younger than {@code weeklyWeeks} weeks;
 * <li><b>monthly</b>: the earliest snapshot of each calendar month, while younger than
 *     {@code monthlyMonths} calendar months ({@code createdAt} after {@code now} minus that many
 *     months);
 * <li><b>newest</b>: the job's newest complete snapshot, always: it is what the next snapshot
 *     deduplicates against and what a head rebuild starts from;
 * <li><b>base</b>: any snapshot an in-flight snapshot deduplicates against.
 * </ul>
 * "Younger than N days" is strict: a snapshot exactly N days old has expired.
 *
 * <p>Why the earliest of a day, week or month (as Ops Manager keeps "the first snapshot of the
 * day"): it exists as soon as the period begins and never changes afterwards, so the snapshot a
 * tier keeps is settled the moment it is taken. The latest would change with every new snapshot
 * of the period, and grooming as time passes would expire yesterday's choice. With the earliest,
 * grooming every few hours keeps exactly what one plan over the whole history would: a bucket's
 * earliest snapshot is kept by its tier from the moment it is taken, and a later snapshot of
 * the same day, week or month can never become a bucket's earliest while it lives.
 */
public final class RetentionPlanner {

    /** Why a snapshot is kept. */
    public enum Reason { NEWEST, IN_FLIGHT_BASE, INTERVAL, DAILY, WEEKLY, MONTHLY }

    /**
     * @param keep the kept snapshots' ids, each with every reason that keeps it
     * @param expire the snapshots no rule keeps, oldest first
     */
    public record Plan(Map<String, Set<Reason>> keep, List<CatalogEntry> expire) {
    }

    private RetentionPlanner() {
    }

    /**
     * @param complete the job's complete snapshots (other entries are ignored)
     * @param inFlightBases ids that in-flight snapshots deduplicate against
     */
    public static Plan plan(Collection<CatalogEntry> complete, RetentionPolicy policy, Instant now,
            Set<String> inFlightBases) {
        List<CatalogEntry> snapshots = complete.stream().filter(CatalogEntry::complete)
                .sorted(Comparator.comparing(CatalogEntry::createdAt).thenComparing(CatalogEntry::id)).toList();
        Map<String, Set<Reason>> keep = new LinkedHashMap<>();
        if (snapshots.isEmpty()) {
            return new Plan(keep, List.of());
        }
        // Newest by position, which is what "latest complete" means to the snapshotter; with equal
        // positions (an unchanged head is never snapshotted twice) the later one.
        CatalogEntry newest = snapshots.stream().max(Comparator.comparing(CatalogEntry::ts,
                Comparator.nullsFirst(Comparator.naturalOrder())).thenComparing(CatalogEntry::createdAt)).orElseThrow();
        add(keep, newest, Reason.NEWEST);

        Instant intervalCut = now.minus(Duration.ofDays(policy.intervalDays()));
        Instant dailyCut = now.minus(Duration.ofDays(policy.dailyDays()));
        Instant weeklyCut = now.minus(Duration.ofDays(7L * policy.weeklyWeeks()));
        Instant monthlyCut = now.atZone(ZoneOffset.UTC).minusMonths(policy.monthlyMonths()).toInstant();

        Map<LocalDate, CatalogEntry> firstOfDay = earliestBy(snapshots, RetentionPlanner::day);
        Map<LocalDate, CatalogEntry> firstOfWeek = earliestBy(snapshots, RetentionPlanner::week);
        Map<LocalDate, CatalogEntry> firstOfMonth = earliestBy(snapshots, RetentionPlanner::month);

        for (CatalogEntry s : snapshots) {
            Instant t = s.createdAt();
            if (inFlightBases.contains(s.id())) {
                add(keep, s, Reason.IN_FLIGHT_BASE);
            }
            if (t.isAfter(intervalCut)) {
                add(keep, s, Reason.INTERVAL);
            }
            if (policy.dailyDays() > 0 && firstOfDay.get(day(s)) == s && t.isAfter(dailyCut)) {
                add(keep, s, Reason.DAILY);
            }
            if (policy.weeklyWeeks() > 0 && firstOfWeek.get(week(s)) == s && t.isAfter(weeklyCut)) {
                add(keep, s, Reason.WEEKLY);
            }
            if (policy.monthlyMonths() > 0 && firstOfMonth.get(month(s)) == s && t.isAfter(monthlyCut)) {
                add(keep, s, Reason.MONTHLY);
            }
        }
        List<CatalogEntry> expire = new ArrayList<>();
        for (CatalogEntry s : snapshots) {
            if (!keep.containsKey(s.id())) {
                expire.add(s);
            }
        }
        return new Plan(keep, expire);
    }

    private static void add(Map<String, Set<Reason>> keep, CatalogEntry s, Reason r) {
        keep.computeIfAbsent(s.id(), id -> EnumSet.noneOf(Reason.class)).add(r);
    }

    /** The first snapshot of each bucket; {@code sorted} is oldest first. */
    private static Map<LocalDate, CatalogEntry> earliestBy(List<CatalogEntry> sorted, Function<CatalogEntry, LocalDate> bucket) {
        Map<LocalDate, CatalogEntry> first = new HashMap<>();
        for (CatalogEntry s : sorted) {
            first.putIfAbsent(bucket.apply(s), s);
        }
        return first;
    }

    private static ZonedDateTime utc(CatalogEntry s) {
        return s.createdAt().atZone(ZoneOffset.UTC);
    }

    private static LocalDate day(CatalogEntry s) {
        return utc(s).toLocalDate();
    }

    private static LocalDate week(CatalogEntry s) {
        return day(s).with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
    }

    private static LocalDate month(CatalogEntry s) {
        return day(s).withDayOfMonth(1);
    }
}
