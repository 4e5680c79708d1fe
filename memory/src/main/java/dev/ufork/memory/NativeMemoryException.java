package dev.ufork.memory;

/**
 * A system call on the memory of the address space failed. Carries the call's name and the {@code errno} it
 * reported, captured right after the call so that no other native code could overwrite it.
 * <p>
 * Thread safety: immutable.
 */
public final class NativeMemoryException extends MemoryException
{
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call        the system call, e.g. {@code "mmap"}.
     * @param errno       the value of {@code errno} right after the call.
     * @param errnoName   the symbolic name or description of {@code errno}.
     * @param detail      the arguments of the call, for the message.
     */
    public NativeMemoryException(final String call, final int errno, final String errnoName, final String detail)
    {
        super(call + " failed: errno " + errno + " (" + errnoName + "); " + detail);
        this.call = call;
        this.errno = errno;
    }

    /**
     * @return the name of the system call that failed.
     */
    public String call()
    {
        return call;
    }

    /**
     * @return the {@code errno} value the call reported.
     */
    public int errno()
    {
        return errno;
    }
}
