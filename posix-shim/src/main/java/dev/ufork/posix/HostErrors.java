package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;

/**
 * Turns what the host file system reported through Java into the error number a C program would see.
 * <p>
 * Java names only a few errors by exception type; the rest arrive as a {@link FileSystemException} or a plain
 * {@link IOException} carrying the host's {@code strerror} text, which is matched against the glibc messages. A
 * message in another language (a JVM started under a non-English locale) is not recognised and becomes EIO. The
 * host running out of descriptors is ENFILE, not EMFILE: the µprocess's own table has room.
 * <p>
 * Thread safety: stateless.
 */
final class HostErrors
{
    /** glibc's {@code strerror} texts, longest first where one is a prefix of another. */
    private static final Object[][] MESSAGES = {
        {"Operation not permitted", Errno.EPERM},
        {"No such file or directory", Errno.ENOENT},
        {"Input/output error", Errno.EIO},
        {"No such device or address", Errno.ENXIO},
        {"Bad file descriptor", Errno.EBADF},
        {"Resource temporarily unavailable", Errno.EAGAIN},
        {"Cannot allocate memory", Errno.ENOMEM},
        {"Permission denied", Errno.EACCES},
        {"Device or resource busy", Errno.EBUSY},
        {"File exists", Errno.EEXIST},
        {"Invalid cross-device link", Errno.EXDEV},
        {"Not a directory", Errno.ENOTDIR},
        {"Is a directory", Errno.EISDIR},
        {"Invalid argument", Errno.EINVAL},
        {"Too many open files in system", Errno.ENFILE},
        {"Too many open files", Errno.ENFILE},
        {"File too large", Errno.EFBIG},
        {"No space left on device", Errno.ENOSPC},
        {"Disk quota exceeded", Errno.ENOSPC},
        {"Illegal seek", Errno.ESPIPE},
        {"Read-only file system", Errno.EROFS},
        {"File name too long", Errno.ENAMETOOLONG},
        {"Directory not empty", Errno.ENOTEMPTY},
        {"Too many levels of symbolic links", Errno.ELOOP},
        {"Operation not supported", Errno.EOPNOTSUPP},
        {"Value too large for defined data type", Errno.EINVAL},
    };

    private HostErrors()
    {
    }

    /**
     * @param e    what the host reported.
     * @param what the call and its arguments, for the message.
     * @return the equivalent error, with {@code e} as its cause.
     */
    static ErrnoException of(final IOException e, final String what)
    {
        return withCause(errno(e), e, what);
    }

    /**
     * @param errno the error number the host's exception maps to.
     * @param e     what the host reported.
     * @param what  the call and its arguments, for the message.
     * @return the errno exception, with {@code e} as its cause.
     */
    static ErrnoException withCause(final Errno errno, final IOException e, final String what)
    {
        final ErrnoException mapped = new ErrnoException(errno, what + ": " + e);
        mapped.initCause(e);
        return mapped;
    }

    /** @return the error number for what the host reported. */
    static Errno errno(final IOException e)
    {
        if (e instanceof NoSuchFileException)
        {
            return Errno.ENOENT;
        }
        if (e instanceof FileAlreadyExistsException)
        {
            return Errno.EEXIST;
        }
        if (e instanceof AccessDeniedException)
        {
            return Errno.EACCES;
        }
        if (e instanceof NotDirectoryException)
        {
            return Errno.ENOTDIR;
        }
        if (e instanceof DirectoryNotEmptyException)
        {
            return Errno.ENOTEMPTY;
        }
        if (e instanceof AtomicMoveNotSupportedException)
        {
            return Errno.EXDEV;
        }
        if (e instanceof NotLinkException)
        {
            return Errno.EINVAL;
        }
        if (e instanceof ClosedChannelException)
        {
            return Errno.EBADF;
        }
        final String text = e instanceof FileSystemException fse ? fse.getReason() : e.getMessage();
        return text == null ? Errno.EIO : ofMessage(text);
    }

    /** @return the error whose glibc text starts {@code text}, or EIO. */
    static Errno ofMessage(final String text)
    {
        for (final Object[] entry : MESSAGES)
        {
            if (text.startsWith((String)entry[0]))
            {
                return (Errno)entry[1];
            }
        }
        return Errno.EIO;
    }
}
