package io.tidemark.shared.testing;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.lang.management.ManagementFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches every log line of a test JVM (and of the processes its tests start) for what must never
 * be logged: an event loop blocked past the suite's limit (Vert.x's blocked-thread checker
 * reports it), or a secret. Lines arrive from the standard-error tee, from the SLF4J provider
 * (messages below the console's level) and from child processes; findings wait until
 * {@link LogWatchExtension} takes them and fails the test during which they were logged.
 */
public final class LogWatch {

    /** What a line showed. */
    public enum Kind { BLOCKED_EVENT_LOOP, SECRET }

    /** One offending line (with the blocked thread's stack, if logged); a secret is already redacted. */
    public static final class Finding {
        private final Kind kind;
        private final String source;
        private final StringBuilder text;

        Finding(Kind kind, String source, String text) {
            this.kind = kind;
            this.source = source;
            this.text = new StringBuilder(text);
        }

        public Kind kind() {
            return kind;
        }

        public synchronized String text() {
            return text.toString();
        }

        @Override
        public String toString() {
            return "[" + (kind == Kind.SECRET ? "secret in a log line" : "blocked event loop") + ", from " + source + "] " + text();
        }
    }

    private static final Pattern BLOCKED = Pattern.compile("Thread .* has been blocked for (\\d+) ms, time limit is (\\d+) ms");
    /** Stack lines kept after a blocked-thread warning: enough to see the culprit's frames. */
    private static final int STACK_LINES = 30;

    private static final List<Finding> FINDINGS = new ArrayList<>();
    /** Per source, the blocked-thread finding whose stack trace lines are still arriving, and their count. */
    private static final Map<String, Finding> STACKS = new HashMap<>();
    private static final Map<String, Integer> STACK_COUNTS = new HashMap<>();
    private static boolean installed;
    /** Lines printed on standard error (log lines and their stack traces), for tests that bound logging. */
    private static final java.util.concurrent.atomic.LongAdder PRINTED = new java.util.concurrent.atomic.LongAdder();

    private LogWatch() {
    }

    /** Starts watching this JVM's standard error, where the logger writes; idempotent. */
    public static synchronized void install() {
        if (!installed) {
            installed = true;
            PrintStream original = System.err;
            System.setErr(new PrintStream(new LineTee(original, line -> {
                PRINTED.increment();
                line(Thread.currentThread().getName(), line);
            }), true, StandardCharsets.UTF_8));
        }
    }

    /** Lines printed on this JVM's standard error since {@link #install()}: a test takes the difference over a period. */
    public static long printedLines() {
        install();
        return PRINTED.sum();
    }

    /** Child processes a test stops on purpose (SIGSTOP): their clocks jump, so their blocked-loop reports say nothing. */
    private static final java.util.Set<String> FROZEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Tells the watch that a test is about to freeze the child process {@code pid} (SIGSTOP): the
     * blocked-thread checker in it then sees the pause as a blocked event loop, which is the test's
     * doing. Secrets in its lines still count.
     */
    public static void frozenOnPurpose(long pid) {
        FROZEN.add(" pid " + pid);
    }

    /** Checks one line of log output from {@code source} (a thread, or a child process). */
    public static synchronized void line(String source, String line) {
        Finding stack = STACKS.get(source);
        if (stack != null) {
            String t = line.strip();
            int count = STACK_COUNTS.get(source);
            if ((t.startsWith("at ") || t.startsWith("io.vertx.core.VertxException") || t.startsWith("...")) && count < STACK_LINES) {
                synchronized (stack) {
                    stack.text.append('\n').append(line);
                }
                STACK_COUNTS.put(source, count + 1);
            } else {
                commit(source);
            }
        }
        Matcher blockedFor = BLOCKED.matcher(line);
        if (blockedFor.find() && Long.parseLong(blockedFor.group(1)) > scaledLimit(Long.parseLong(blockedFor.group(2)))
                && FROZEN.stream().noneMatch(source::endsWith)) {
            commit(source);
            STACKS.put(source, new Finding(Kind.BLOCKED_EVENT_LOOP, source, line));
            STACK_COUNTS.put(source, 0);
        }
        String redacted = SecretShapes.redactedIfSecret(line);
        if (redacted != null) {
            FINDINGS.add(new Finding(Kind.SECRET, source, redacted));
        }
    }

    /**
     * The limit a report must pass to count: the checker's own, stretched by how oversubscribed the
     * machine's cores are. A thread that is ready to run but waits for a core is "blocked" by the
     * wall clock the checker uses; with 14 runnable threads on 2 cores (a shared CI machine) a
     * 30 ms task takes 200 ms, and first-time class loading several times that. On an idle machine
     * the limit is the checker's.
     */
    public static long scaledLimit(long limitMillis) {
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        double oversubscribed = load / Runtime.getRuntime().availableProcessors();
        return Math.round(limitMillis * Math.max(1.0, oversubscribed));
    }

    /** Checks a log event that was not printed (below the console's level), with its exception's messages. */
    static void event(String source, String message, Throwable thrown) {
        line(source, message);
        for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
            line(source, t.toString());
        }
    }

    /** A blocked-thread report whose stack has been read: kept unless the loop was loading classes. */
    private static void commit(String source) {
        Finding blocked = STACKS.remove(source);
        STACK_COUNTS.remove(source);
        if (blocked != null && !loadingClasses(blocked.text())) {
            FINDINGS.add(blocked);
        }
    }

    /**
     * Whether a blocked thread's stack shows the JVM loading, linking or initialising a class:
     * a one-time cost of a cold JVM (each deploy test class starts one), not work the code does
     * on every call. A verticle's start() counts too: it runs once, before the verticle serves
     * anything, and on a cold JVM it is mostly first-time initialisation (such blocks are still
     * logged, with their stacks). The checker reports a long block again every few milliseconds,
     * each time with a new stack, so a block that goes on doing real work is still caught.
     */
    static boolean loadingClasses(String report) {
        String[] lines = report.split("\n");
        int frames = 0;
        for (String line : lines) {
            String t = line.strip();
            if (!t.startsWith("at ")) {
                continue;
            }
            if (t.contains(".<clinit>(") || t.contains("io.vertx.core.VerticleBase.deploy(")) {
                return true;
            }
            if (frames++ < 12 && (t.contains("java.lang.ClassLoader.") || t.contains("jdk.internal.loader.")
                    || t.contains("java.lang.invoke.") || t.contains("java.lang.Class.forName"))) {
                return true;
            }
        }
        return false;
    }

    /** Every finding so far, which is then forgotten. */
    public static synchronized List<Finding> take() {
        for (String source : List.copyOf(STACKS.keySet())) {
            commit(source);
        }
        List<Finding> out = new ArrayList<>(FINDINGS);
        FINDINGS.clear();
        return out;
    }

    /** The failure that {@code findings} (logged during {@code where}) amount to, or null if there are none. */
    public static AssertionError failure(String where, List<Finding> findings) {
        if (findings.isEmpty()) {
            return null;
        }
        StringBuilder message = new StringBuilder().append(findings.size()).append(" log line(s) ").append(where)
                .append(" break the suite's rules (no event loop blocked past ")
                .append(System.getProperty("tidemark.test.maxEventLoopMillis", "Vert.x's limit of 2000"))
                .append(" ms times the machine's load per core, no secret in a log line):");
        for (Finding f : findings) {
            message.append("\n  ").append(f);
        }
        return new AssertionError(message.toString());
    }
}
