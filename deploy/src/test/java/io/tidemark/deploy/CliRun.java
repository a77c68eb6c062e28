package io.tidemark.deploy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs the {@code tidemark} command line in-process, as a user would, and returns what it printed. */
final class CliRun {

    private CliRun() {
    }

    /** What a run printed on standard output, and its exit status. */
    record Result(int exit, String out) {
    }

    /** Runs {@code args}, asserting exit status 0; returns standard output. */
    static String ok(String... args) {
        Result r = run(args);
        assertEquals(0, r.exit(), String.join(" ", args) + "\n" + r.out());
        return r.out();
    }

    /** Runs {@code args} whatever its exit status. */
    static Result run(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = TidemarkCli.run(args);
        } finally {
            System.setOut(out);
        }
        return new Result(exit, captured.toString(StandardCharsets.UTF_8));
    }

    /** {@link #ok} against the server whose data dir is {@code dataDir}. */
    static String okIn(Path dataDir, String... args) {
        return ok(inDir(dataDir, args));
    }

    /** {@link #run} against the server whose data dir is {@code dataDir}. */
    static Result runIn(Path dataDir, String... args) {
        return run(inDir(dataDir, args));
    }

    private static String[] inDir(Path dataDir, String... args) {
        String[] withDir = Arrays.copyOf(args, args.length + 2);
        withDir[args.length] = "--data-dir";
        withDir[args.length + 1] = dataDir.toString();
        return withDir;
    }
}
