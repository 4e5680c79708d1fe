package dev.ufork.posix;

import dev.ufork.capability.Capability;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Plumbing for the socket tests: buffers in µprocess memory, sockaddr structs, loopback servers and clients. */
final class NetTestSupport
{
    /** 127.0.0.1. */
    static final InetAddress LOOPBACK = address(new byte[] {127, 0, 0, 1});
    /** ::1. */
    static final InetAddress LOOPBACK6 = address(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

    private NetTestSupport()
    {
    }

    private static InetAddress address(final byte[] bytes)
    {
        try
        {
            return InetAddress.getByAddress(bytes);
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalStateException(e);
        }
    }

    /**
     * @return a read-write capability over {@code size} bytes of the µprocess's heap region, {@code offset} bytes
     *         into it (the tests need no allocator).
     */
    static Capability heap(final Posix posix, final long offset, final long size)
    {
        return PosixTestSupport.heapBuffer(posix, offset, size);
    }

    /** Writes a {@code struct sockaddr_in} at {@code at} as a C program would, field by field. */
    static void storeSockaddrIn(final Posix posix, final Capability at, final int hostOrderAddress, final int port)
    {
        posix.memory().fill(at, 0, Net.SOCKADDR_IN_SIZE, (byte)0);
        posix.memory().storeShort(at, 0, (short)Net.AF_INET);
        posix.memory().storeShort(at, 2, Net.htons(port));
        posix.memory().storeInt(at, 4, Net.htonl(hostOrderAddress));
    }

    /** @return a socket listening on 127.0.0.1 at an ephemeral port. */
    static int listenLoopback(final Posix posix, final int backlog)
    {
        final int fd = (int)PosixTestSupport.check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
        PosixTestSupport.check(posix, posix.bind(fd, new InetSocketAddress(LOOPBACK, 0)), "bind");
        PosixTestSupport.check(posix, posix.listen(fd, backlog), "listen");
        return fd;
    }

    /** @return the port a socket is bound to. */
    static int portOf(final Posix posix, final int fd)
    {
        final InetSocketAddress[] local = new InetSocketAddress[1];
        PosixTestSupport.check(posix, posix.getsockname(fd, local), "getsockname");
        return local[0].getPort();
    }

    /** @return a blocking socket connected to 127.0.0.1:port. */
    static int connectLoopback(final Posix posix, final int port)
    {
        final int fd = (int)PosixTestSupport.check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
        PosixTestSupport.check(posix, posix.connect(fd, new InetSocketAddress(LOOPBACK, port)), "connect");
        return fd;
    }

    /** Sends all of a string (blocking socket). */
    static void sendString(final Posix posix, final int fd, final String text)
    {
        final byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(bytes.length, PosixTestSupport.check(posix, posix.send(fd, bytes, 0, bytes.length, 0), "send"));
    }

    /** @return exactly {@code length} bytes as a string, or fewer if the stream ends. */
    static String recvString(final Posix posix, final int fd, final int length)
    {
        final byte[] bytes = new byte[length];
        int done = 0;
        while (done < length)
        {
            final long n = PosixTestSupport.check(posix, posix.recv(fd, bytes, done, length - done, 0), "recv");
            if (n == 0)
            {
                break;
            }
            done += (int)n;
        }
        return new String(bytes, 0, done, StandardCharsets.UTF_8);
    }

    /** @return everything until end of stream, as a string. */
    static String recvToEnd(final Posix posix, final int fd)
    {
        final StringBuilder text = new StringBuilder();
        final byte[] bytes = new byte[4096];
        long n;
        while ((n = PosixTestSupport.check(posix, posix.recv(fd, bytes, 0, bytes.length, 0), "recv")) > 0)
        {
            text.append(new String(bytes, 0, (int)n, StandardCharsets.UTF_8));
        }
        return text.toString();
    }
}
