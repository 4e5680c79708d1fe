package dev.ufork.kernel;

/**
 * What a µprocess does when a signal arrives, as {@code sigaction} sets it: the default action, ignore it, or run a
 * handler.
 *
 * @param disposition which of the three.
 * @param handler     the handler for {@link Disposition#HANDLE}, else null.
 */
public record SignalAction(Disposition disposition, SignalHandler handler)
{
    /** The signal's default action: terminate or ignore, see {@link Signal#terminatesByDefault()}. */
    public static final SignalAction DEFAULT = new SignalAction(Disposition.DEFAULT, null);
    /** Discard the signal. */
    public static final SignalAction IGNORE = new SignalAction(Disposition.IGNORE, null);

    /** The three dispositions. */
    public enum Disposition
    {
        /** {@code SIG_DFL}. */
        DEFAULT,
        /** {@code SIG_IGN}. */
        IGNORE,
        /** A handler. */
        HANDLE
    }

    /** Validates that a handler comes exactly with {@link Disposition#HANDLE}. */
    public SignalAction
    {
        if (disposition == null || (disposition == Disposition.HANDLE) != (handler != null))
        {
            throw new IllegalArgumentException("a handler goes with HANDLE and only with it: " + disposition);
        }
    }

    /**
     * @param handler the handler.
     * @return the action that runs it.
     */
    public static SignalAction handle(final SignalHandler handler)
    {
        return new SignalAction(Disposition.HANDLE, handler);
    }
}
