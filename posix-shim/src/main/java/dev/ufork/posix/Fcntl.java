package dev.ufork.posix;

/**
 * The flag and command constants of the descriptor calls, with their Linux values: {@code open} flags,
 * {@code fcntl} commands, {@code lseek} origins, {@code poll} events and the pipe limits.
 * <p>
 * Thread safety: constants only.
 */
public final class Fcntl
{
    /** Open for reading only. */
    public static final int O_RDONLY = 0;
    /** Open for writing only. */
    public static final int O_WRONLY = 1;
    /** Open for reading and writing. */
    public static final int O_RDWR = 2;
    /** The access-mode bits. */
    public static final int O_ACCMODE = 3;
    /** Create the file if it does not exist. */
    public static final int O_CREAT = 0100;
    /** With O_CREAT: fail with EEXIST if it exists. */
    public static final int O_EXCL = 0200;
    /** Truncate a regular file opened for writing to length 0. */
    public static final int O_TRUNC = 01000;
    /** Every write goes to the end of the file. */
    public static final int O_APPEND = 02000;
    /** Calls that would block fail with EAGAIN instead. */
    public static final int O_NONBLOCK = 04000;
    /** Fail with ENOTDIR unless the path is a directory. */
    public static final int O_DIRECTORY = 0200000;
    /** Fail with ELOOP if the last component is a symbolic link. */
    public static final int O_NOFOLLOW = 0400000;
    /** Set FD_CLOEXEC on the new descriptor. */
    public static final int O_CLOEXEC = 02000000;

    /** fcntl: duplicate to the lowest free descriptor at or above the argument. */
    public static final int F_DUPFD = 0;
    /** fcntl: the descriptor flags (FD_CLOEXEC). */
    public static final int F_GETFD = 1;
    /** fcntl: set the descriptor flags. */
    public static final int F_SETFD = 2;
    /** fcntl: the file status flags and access mode. */
    public static final int F_GETFL = 3;
    /** fcntl: set the file status flags (O_APPEND and O_NONBLOCK). */
    public static final int F_SETFL = 4;
    /** fcntl: as F_DUPFD, with FD_CLOEXEC set. */
    public static final int F_DUPFD_CLOEXEC = 1030;
    /** The close-on-exec descriptor flag (kept and reported; there is no exec). */
    public static final int FD_CLOEXEC = 1;

    /** lseek: from the start. */
    public static final int SEEK_SET = 0;
    /** lseek: from the current offset. */
    public static final int SEEK_CUR = 1;
    /** lseek: from the end. */
    public static final int SEEK_END = 2;

    /** poll: data to read (or a connection to accept, or end of file). */
    public static final short POLLIN = 0x001;
    /** poll: urgent data. */
    public static final short POLLPRI = 0x002;
    /** poll: room to write. */
    public static final short POLLOUT = 0x004;
    /** poll: an error (always reported). */
    public static final short POLLERR = 0x008;
    /** poll: the peer hung up (always reported). */
    public static final short POLLHUP = 0x010;
    /** poll: the descriptor is not open (always reported). */
    public static final short POLLNVAL = 0x020;

    /** Writes of at most this many bytes to a pipe are atomic. */
    public static final int PIPE_BUF = 4096;
    /** Bytes a pipe holds. */
    public static final int PIPE_CAPACITY = 65536;

    private Fcntl()
    {
    }
}
