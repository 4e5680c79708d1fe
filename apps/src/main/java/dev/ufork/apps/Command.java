package dev.ufork.apps;

/**
 * A command of the {@code ufork} command line ({@code demo}, {@code bench spawn}, later {@code kv}, {@code http},
 * {@code faas}). A command answers {@code --help} with its usage on {@link Invocation#out()}, reports bad arguments
 * by throwing {@link UsageException}, and returns its exit status.
 * <p>
 * Thread safety: implementations are stateless between runs. Lifetime: the process.
 */
public interface Command
{
    /** @return the name typed on the command line, e.g. {@code "demo"}. */
    String name();

    /** @return one line for the listing of the enclosing command's usage. */
    String summary();

    /**
     * Runs the command.
     *
     * @param invocation its arguments and streams.
     * @return the exit status: 0 on success, 1 if something failed while running.
     * @throws UsageException for bad arguments (exit status 2).
     */
    int run(Invocation invocation) throws UsageException;
}
