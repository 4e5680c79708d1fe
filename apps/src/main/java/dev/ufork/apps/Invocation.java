package dev.ufork.apps;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * One run of a command: its arguments (after its name), where it writes, and the environment it sees. The
 * environment is passed in rather than read from {@link System#getenv()} so that a test can run a command without a
 * C compiler on the PATH.
 * <p>
 * Thread safety: immutable (the streams are shared). Lifetime: one command run.
 *
 * @param command     the command as typed so far, e.g. {@code "ufork bench"}, for messages.
 * @param args        the arguments after it.
 * @param out         results (tables, CSV).
 * @param err         progress and errors.
 * @param environment the environment variables (CC, PATH).
 */
public record Invocation(String command, List<String> args, PrintStream out, PrintStream err,
    Map<String, String> environment)
{
    /** Copies the lists and checks that nothing is missing. */
    public Invocation
    {
        if (command == null || out == null || err == null)
        {
            throw new NullPointerException("command, out and err are required");
        }
        args = List.copyOf(args);
        environment = Map.copyOf(environment);
    }

    /**
     * @param name the subcommand's name, the first argument.
     * @return the invocation of that subcommand with the remaining arguments.
     */
    public Invocation subcommand(final String name)
    {
        return new Invocation(command + " " + name, args.subList(1, args.size()), out, err, environment);
    }
}
