package dev.ufork.kernel;

/**
 * The POSIX error numbers the kernel reports, with their Linux values.
 */
public enum Errno
{
    /** Operation not permitted. */
    EPERM(1),
    /** No such process. */
    ESRCH(3),
    /** Interrupted system call. */
    EINTR(4),
    /** No child processes. */
    ECHILD(10),
    /** Resource temporarily unavailable. */
    EAGAIN(11),
    /** Cannot allocate memory. */
    ENOMEM(12),
    /** Bad address. */
    EFAULT(14),
    /** Invalid argument. */
    EINVAL(22);

    private final int code;

    Errno(final int code)
    {
        this.code = code;
    }

    /** @return the Linux value of this error number. */
    public int code()
    {
        return code;
    }
}
