package dev.ufork.apps;

import dev.ufork.apps.kv.KvCommands;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * The {@code ufork} command line: {@code ufork demo}, {@code ufork kv}, {@code ufork bench spawn|pipe|kv}. Every
 * command answers {@code --help}; bad arguments print what is wrong and exit with status 2; a failure while running
 * exits with status 1. {@code ./ufork} in the project root runs this with the JVM flags it needs.
 * <p>
 * New applications slot in by adding their {@link Command} to {@link #commands()}.
 * <p>
 * Thread safety: {@link #run} may be called from any thread; commands do not share state. Lifetime: the process.
 */
public final class Main
{
    /** The exit status for bad arguments. */
    public static final int USAGE = 2;

    private Main()
    {
    }

    /** @return the command tree: the top-level commands under {@code ufork}. */
    public static CommandGroup commands()
    {
        return new CommandGroup("ufork", "ufork: POSIX fork for the JVM (one address space, software CHERI "
            + "capabilities).", List.of(
                new DemoCommand(),
                KvCommands.server(),
                new CommandGroup("bench", "Benchmarks of ufork against Linux, measured in the same run.", List.of(
                    BenchCommand.spawn(),
                    BenchCommand.pipe(),
                    KvCommands.bench()))));
    }

    /**
     * Runs the command line and exits with its status.
     *
     * @param args the arguments, e.g. {@code bench spawn --ops 1000}.
     */
    public static void main(final String[] args)
    {
        final int status = run(List.of(args), System.out, System.err, System.getenv());
        System.out.flush();
        System.err.flush();
        System.exit(status);
    }

    /**
     * Runs the command line in this JVM.
     *
     * @param args        the arguments.
     * @param out         where results go.
     * @param err         where progress and errors go.
     * @param environment the environment ({@code CC}, {@code PATH}).
     * @return the exit status: 0, 1 (failed while running) or {@value #USAGE} (bad arguments).
     */
    public static int run(final List<String> args, final PrintStream out, final PrintStream err,
        final Map<String, String> environment)
    {
        final CommandGroup root = commands();
        try
        {
            return root.run(new Invocation(root.name(), args, out, err, environment));
        }
        catch (final UsageException e)
        {
            err.println(e.command() + ": " + e.getMessage());
            err.println("Run '" + e.command() + " --help' for usage.");
            return USAGE;
        }
    }
}
