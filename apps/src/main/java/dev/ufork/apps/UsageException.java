package dev.ufork.apps;

import java.io.Serial;

/**
 * Bad arguments on the command line: the message says what is wrong, {@link #command()} names the command whose
 * {@code --help} explains the right ones. {@link Main} prints both and exits with status 2.
 * <p>
 * Thread safety: immutable.
 */
public final class UsageException extends Exception
{
    @Serial
    private static final long serialVersionUID = 1L;

    private final String command;

    /**
     * @param command the command as typed, e.g. {@code "ufork bench spawn"}.
     * @param message what is wrong, e.g. {@code "--ops must be at least 1, got 0"}.
     */
    public UsageException(final String command, final String message)
    {
        super(message);
        this.command = command;
    }

    /** @return the command as typed, e.g. {@code "ufork bench spawn"}. */
    public String command()
    {
        return command;
    }
}
