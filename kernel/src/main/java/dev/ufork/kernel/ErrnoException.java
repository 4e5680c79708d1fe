package dev.ufork.kernel;

/**
 * A kernel service refused a request, with the POSIX error number a C program would see in {@code errno}. The
 * request had no effect.
 * <p>
 * Thread safety: immutable.
 */
public final class ErrnoException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    /**
     * @param errno  the error number.
     * @param detail what was asked and why it failed.
     */
    public ErrnoException(final Errno errno, final String detail)
    {
        super(errno + ": " + detail);
        this.errno = errno;
    }

    /** @return the error number. */
    public Errno errno()
    {
        return errno;
    }
}
