package dev.ufork.kernel;

/**
 * The POSIX encoding of a child's termination, as {@code waitpid} reports it in {@code *wstatus}, and the macros that
 * decode it (Linux layout: exit status in bits 8..15, terminating signal in bits 0..6).
 */
public final class WaitStatus
{
    private WaitStatus()
    {
    }

    /**
     * @param status the exit status; only its low 8 bits are kept, as {@code _exit} does.
     * @return the wait status of a normal exit.
     */
    public static int exited(final int status)
    {
        return (status & 0xFF) << 8;
    }

    /**
     * @param signal the terminating signal.
     * @return the wait status of a termination by a signal.
     */
    public static int signaled(final Signal signal)
    {
        return signal.number() & 0x7F;
    }

    /** @param status a wait status. @return {@code WIFEXITED}. */
    public static boolean ifExited(final int status)
    {
        return (status & 0x7F) == 0;
    }

    /** @param status a wait status. @return {@code WEXITSTATUS}. */
    public static int exitStatus(final int status)
    {
        return (status >> 8) & 0xFF;
    }

    /** @param status a wait status. @return {@code WIFSIGNALED}. */
    public static boolean ifSignaled(final int status)
    {
        return ((byte)((status & 0x7F) + 1) >> 1) > 0;
    }

    /** @param status a wait status. @return {@code WTERMSIG}. */
    public static int termSignal(final int status)
    {
        return status & 0x7F;
    }
}
