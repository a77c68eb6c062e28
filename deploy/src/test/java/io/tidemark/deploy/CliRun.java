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

    /** Runs {@code args}, asserting exit status 0; returns standard output. */
    static String ok(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, TidemarkCli.run(args), String.join(" ", args));
        } finally {
            System.setOut(out);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    /** The same against the server whose data dir is {@code dataDir}. */
    static String okIn(Path dataDir, String... args) {
        String[] withDir = Arrays.copyOf(args, args.length + 2);
        withDir[args.length] = "--data-dir";
        withDir[args.length + 1] = dataDir.toString();
        return ok(withDir);
    }
}
