package dev.ufork.kernel;

/**
 * Unwinds a µprocess's thread when it exits or is killed; the kernel catches it at the bottom of the thread.
 * Programs must not catch it (it is an {@link Error} for that reason); code that catches {@link Throwable} must
 * rethrow it. Only the kernel creates one.
 * <p>
 * Thread safety: immutable.
 */
public final class ProcessTermination extends Error
{
    private static final long serialVersionUID = 1L;

    private final int waitStatus;

    ProcessTermination(final int waitStatus)
    {
        super(null, null, false, false);
        this.waitStatus = waitStatus;
    }

    int waitStatus()
    {
        return waitStatus;
    }
}
