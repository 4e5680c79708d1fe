package dev.ufork.kernel;

/**
 * The signals the kernel delivers, with their Linux numbers and default actions.
 */
public enum Signal
{
    /** Hang-up; terminates by default. */
    SIGHUP(1, true),
    /** Interrupt; terminates by default. */
    SIGINT(2, true),
    /** Quit; terminates by default (the kernel writes no core dump). */
    SIGQUIT(3, true),
    /** Abort: the program failed with an unexpected Java error; terminates. */
    SIGABRT(6, true),
    /** Kill; always terminates, cannot be caught or ignored. */
    SIGKILL(9, true),
    /** User signal 1; terminates by default. */
    SIGUSR1(10, true),
    /** User signal 2; terminates by default. */
    SIGUSR2(12, true),
    /** Invalid memory access: here, a capability fault; terminates by default. */
    SIGSEGV(11, true),
    /** Write to a pipe with no reader; terminates by default. */
    SIGPIPE(13, true),
    /** Alarm; terminates by default. */
    SIGALRM(14, true),
    /** Termination request; terminates by default. */
    SIGTERM(15, true),
    /** A child stopped or exited; ignored by default. */
    SIGCHLD(17, false),
    /** Urgent data on a socket; ignored by default. */
    SIGURG(23, false),
    /** Window size change; ignored by default. */
    SIGWINCH(28, false);

    /** The highest signal number the kernel knows. */
    public static final int MAX_NUMBER = 31;

    private final int number;
    private final boolean terminatesByDefault;

    Signal(final int number, final boolean terminatesByDefault)
    {
        this.number = number;
        this.terminatesByDefault = terminatesByDefault;
    }

    /** @return the Linux signal number. */
    public int number()
    {
        return number;
    }

    /** @return whether the default action is to terminate the µprocess. */
    public boolean terminatesByDefault()
    {
        return terminatesByDefault;
    }

    /**
     * @param number a Linux signal number.
     * @return the signal.
     * @throws ErrnoException EINVAL if the number is not a signal the kernel knows.
     */
    public static Signal of(final int number)
    {
        for (final Signal s : values())
        {
            if (s.number == number)
            {
                return s;
            }
        }
        throw new ErrnoException(Errno.EINVAL, "unknown signal " + number);
    }
}
