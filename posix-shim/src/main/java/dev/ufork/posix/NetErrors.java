package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.nio.channels.ClosedChannelException;

/**
 * Turns the exceptions of Java's socket channels into the errno a Linux program would see. NIO reports most socket
 * errors as an {@link IOException} whose message is the C library's {@code strerror} text, so the text decides
 * first, then the exception's class.
 * <p>
 * Thread safety: stateless.
 */
final class NetErrors
{
    private NetErrors()
    {
    }

    /**
     * @param e    what the channel threw.
     * @param what the call and its arguments, for the message.
     * @return the errno exception, with {@code e} as its cause.
     */
    static ErrnoException of(final IOException e, final String what)
    {
        return HostErrors.withCause(errnoOf(e), e, what);
    }

    /** @return the errno for an exception of a socket channel. */
    static Errno errnoOf(final IOException e)
    {
        final String message = e.getMessage();
        if (message != null)
        {
            final Errno byText = byText(message);
            if (byText != null)
            {
                return byText;
            }
        }
        if (e instanceof BindException)
        {
            return Errno.EADDRINUSE;
        }
        if (e instanceof ConnectException)
        {
            return Errno.ECONNREFUSED;
        }
        if (e instanceof NoRouteToHostException)
        {
            return Errno.EHOSTUNREACH;
        }
        if (e instanceof ClosedChannelException)
        {
            // The channel went away under the call: the description was closed or (after a failed connect) reset.
            return Errno.EBADF;
        }
        return Errno.EIO;
    }

    private static Errno byText(final String message)
    {
        if (message.contains("Address already in use"))
        {
            return Errno.EADDRINUSE;
        }
        if (message.contains("Cannot assign requested address"))
        {
            return Errno.EADDRNOTAVAIL;
        }
        if (message.contains("Permission denied"))
        {
            return Errno.EACCES;
        }
        if (message.contains("Connection refused"))
        {
            return Errno.ECONNREFUSED;
        }
        if (message.contains("Connection timed out"))
        {
            return Errno.ETIMEDOUT;
        }
        if (message.contains("Network is unreachable"))
        {
            return Errno.ENETUNREACH;
        }
        if (message.contains("No route to host"))
        {
            return Errno.EHOSTUNREACH;
        }
        if (message.contains("Connection reset"))
        {
            return Errno.ECONNRESET;
        }
        if (message.contains("Broken pipe"))
        {
            return Errno.EPIPE;
        }
        if (message.contains("Software caused connection abort"))
        {
            return Errno.ECONNABORTED;
        }
        if (message.contains("Transport endpoint is not connected"))
        {
            return Errno.ENOTCONN;
        }
        if (message.contains("Too many open files"))
        {
            // The host's descriptor limit, which is system-wide from a µprocess's point of view.
            return Errno.ENFILE;
        }
        if (message.contains("No buffer space available"))
        {
            return Errno.ENOBUFS;
        }
        if (message.contains("Cannot allocate memory"))
        {
            return Errno.ENOMEM;
        }
        if (message.contains("Address family not supported"))
        {
            return Errno.EAFNOSUPPORT;
        }
        if (message.contains("Invalid argument"))
        {
            return Errno.EINVAL;
        }
        return null;
    }
}
