package io.tidemark.deploy;

import io.tidemark.shared.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code tidemark} command. */
@Command(name = "tidemark", mixinStandardHelpOptions = true, version = "tidemark 0.1.0",
        description = "Continuous backup for MongoDB.",
        subcommands = {ServerCommand.class, AgentCommand.class, DemoCommand.class, JobsCommand.class, DaemonsCommand.class,
                KeysCommand.class, VerifyCommand.class, SnapshotCommand.class, SnapshotsCommand.class, RestoreCommand.class, HistoryCommand.class, PolicyCommand.class, GroomCommand.class, CheckCommand.class, RepairCommand.class,
                BenchCommand.class})
public final class TidemarkCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit status (tests call this directly). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new TidemarkCli());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof CliException || e instanceof ConfigException || e instanceof IllegalArgumentException) {
                cmd.getErr().println("tidemark: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
