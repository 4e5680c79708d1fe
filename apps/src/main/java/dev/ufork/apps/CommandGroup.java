package dev.ufork.apps;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A command made of subcommands, dispatched on the first argument: {@code ufork} itself ({@code demo},
 * {@code bench}) and {@code ufork bench} ({@code spawn}, {@code pipe}). A new application slots in by adding its
 * {@link Command} to a group's list. {@code --help} (or {@code -h}, or {@code help}) lists the subcommands.
 * <p>
 * Thread safety: immutable. Lifetime: the process.
 */
public final class CommandGroup implements Command
{
    private final String name;
    private final String summary;
    private final Map<String, Command> commands = new LinkedHashMap<>();

    /**
     * @param name     the group's name.
     * @param summary  one line for the enclosing group's listing.
     * @param commands its subcommands, listed in this order.
     * @throws IllegalArgumentException if two share a name.
     */
    public CommandGroup(final String name, final String summary, final List<Command> commands)
    {
        this.name = name;
        this.summary = summary;
        for (final Command command : commands)
        {
            if (this.commands.putIfAbsent(command.name(), command) != null)
            {
                throw new IllegalArgumentException("two subcommands of " + name + " are called " + command.name());
            }
        }
    }

    @Override
    public String name()
    {
        return name;
    }

    @Override
    public String summary()
    {
        return summary;
    }

    /** @return the subcommands' names, in listing order. */
    public List<String> commandNames()
    {
        return new ArrayList<>(commands.keySet());
    }

    @Override
    public int run(final Invocation invocation) throws UsageException
    {
        if (invocation.args().isEmpty())
        {
            throw new UsageException(invocation.command(), "missing command; one of: " + String.join(", ",
                commands.keySet()));
        }
        final String first = invocation.args().getFirst();
        if (first.equals("--help") || first.equals("-h") || first.equals("help"))
        {
            invocation.out().print(usage(invocation.command()));
            return 0;
        }
        final Command command = commands.get(first);
        if (command == null)
        {
            throw new UsageException(invocation.command(), (first.startsWith("-") ? "unknown option '"
                : "unknown command '") + first + "'; one of: " + String.join(", ", commands.keySet()));
        }
        return command.run(invocation.subcommand(first));
    }

    /**
     * @param typed the group's command as typed, e.g. {@code "ufork bench"}.
     * @return the listing of its subcommands.
     */
    public String usage(final String typed)
    {
        final StringBuilder text = new StringBuilder();
        text.append("usage: ").append(typed).append(" <command> [options]\n\n");
        text.append(summary).append("\n\n");
        int width = 0;
        for (final String command : commands.keySet())
        {
            width = Math.max(width, command.length());
        }
        for (final Command command : commands.values())
        {
            text.append("  ").append(command.name()).append(" ".repeat(width - command.name().length() + 3))
                .append(command.summary()).append('\n');
        }
        text.append("\nRun '").append(typed).append(" <command> --help' for a command's options.\n");
        return text.toString();
    }
}
