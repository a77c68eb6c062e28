package io.tidemark.shared.testing;

import io.tidemark.shared.util.VertxFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Starts a separate JVM (a server, a CLI command) from a test, in the suite's test mode: the
 * event-loop limit is passed on and assertions are on, and every line the child logs (its
 * standard error) goes through {@link LogWatch}, so a blocked event loop or a secret in the child
 * fails the test that started it. Standard output is the program's own output (a new key is
 * printed there on purpose) and only goes to {@code stdout}.
 */
public final class ChildJvm {

    private ChildJvm() {
    }

    public static Process start(Path workDir, List<String> jvmArgs, String mainClass, List<String> args,
                                Consumer<String> stdout, Consumer<String> stderr) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-ea");
        String limit = System.getProperty(VertxFactory.MAX_EVENT_LOOP_MILLIS);
        if (limit != null) {
            command.add("-D" + VertxFactory.MAX_EVENT_LOOP_MILLIS + "=" + limit);
        }
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        try {
            Process process = new ProcessBuilder(command).directory(workDir.toFile()).start();
            String source = "child " + mainClass + " pid " + process.pid();
            pump(process.getInputStream(), source + " stdout", stdout);
            pump(process.getErrorStream(), source, line -> {
                LogWatch.line(source, line);
                stderr.accept(line);
            });
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void pump(InputStream in, String name, Consumer<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    lines.accept(line);
                }
            } catch (IOException e) {
                // the child is gone; its remaining output with it
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }
}
