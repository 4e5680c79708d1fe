package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.capability.Permission;
import dev.ufork.capability.Permissions;
import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

import static dev.ufork.posix.NetTestSupport.heap;
import static dev.ufork.posix.PosixTestSupport.check;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The socket calls' bad paths: bad arguments, descriptors that are not sockets, buffers and address structs that a
 * capability does not cover (EFAULT with nothing consumed), a full descriptor table, and the options.
 */
class SocketErrorsTest extends PosixTestBase
{
    @Override
    CopyMode copyMode()
    {
        return CopyMode.COPY;
    }

    private static void fails(final Posix posix, final Errno expected, final long result, final String what)
    {
        assertEquals(-1, result, what + " should fail");
        assertEquals(expected, posix.lastError(), what);
    }

    private static void fails(final Posix posix, final Errno expected, final IntSupplier call, final String what)
    {
        fails(posix, expected, call.getAsInt(), what);
    }

    /** socket: unknown families, types, protocols; SOCK_NONBLOCK and SOCK_CLOEXEC reach the descriptor. */
    @Test
    void socketChecksItsArgumentsAndAppliesTypeFlags()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            fails(posix, Errno.EAFNOSUPPORT, posix.socket(99, Net.SOCK_STREAM, 0), "family 99");
            fails(posix, Errno.EAFNOSUPPORT, posix.socket(Net.AF_UNSPEC, Net.SOCK_STREAM, 0), "AF_UNSPEC");
            fails(posix, Errno.EINVAL, posix.socket(Net.AF_INET, 77, 0), "type 77");
            fails(posix, Errno.EINVAL, posix.socket(Net.AF_INET, Net.SOCK_STREAM | 0x100, 0), "unknown type flag");
            fails(posix, Errno.EPROTONOSUPPORT, posix.socket(Net.AF_INET, Net.SOCK_DGRAM, 0), "SOCK_DGRAM");
            fails(posix, Errno.EPROTONOSUPPORT, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 17), "UDP protocol");
            final int plain = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, Net.IPPROTO_TCP), "socket");
            assertEquals(Fcntl.O_RDWR, posix.fcntl(plain, Fcntl.F_GETFL, 0));
            assertEquals(0, posix.fcntl(plain, Fcntl.F_GETFD, 0));
            final int flagged = (int)check(posix, posix.socket(Net.AF_INET6,
                Net.SOCK_STREAM | Net.SOCK_NONBLOCK | Net.SOCK_CLOEXEC, 0), "socket");
            assertEquals(Fcntl.O_RDWR | Fcntl.O_NONBLOCK, posix.fcntl(flagged, Fcntl.F_GETFL, 0));
            assertEquals(Fcntl.FD_CLOEXEC, posix.fcntl(flagged, Fcntl.F_GETFD, 0));
            fails(posix, Errno.EAGAIN, posix.accept4(listening(posix, flagged), (InetSocketAddress[])null, 0),
                "non-blocking accept");
            return 0;
        });
    }

    private static int listening(final Posix posix, final int fd)
    {
        check(posix, posix.listen(fd, 1), "listen");
        return fd;
    }

    /** Every socket call on a closed descriptor is EBADF; on a pipe or /dev/null it is ENOTSOCK. */
    @Test
    void notASocketIsEbadfOrEnotsock()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int[] pipe = new int[2];
            check(posix, posix.pipe(pipe), "pipe");
            final Capability buf = heap(posix, 0, 64);
            final Capability len = heap(posix, 64, 4);
            posix.memory().storeInt(len, 0, 16);
            NetTestSupport.storeSockaddrIn(posix, buf, Net.INADDR_LOOPBACK, 9);
            for (final int[] target : new int[][] {{50, Errno.EBADF.code()}, {-1, Errno.EBADF.code()},
                {pipe[0], Errno.ENOTSOCK.code()}, {pipe[1], Errno.ENOTSOCK.code()}, {0, Errno.ENOTSOCK.code()}})
            {
                final int fd = target[0];
                final Errno errno = Errno.ofCode(target[1]);
                final String on = " on " + fd;
                fails(posix, errno, () -> posix.bind(fd, buf, 16), "bind" + on);
                fails(posix, errno, () -> posix.listen(fd, 1), "listen" + on);
                fails(posix, errno, () -> posix.accept(fd, buf, len), "accept" + on);
                fails(posix, errno, () -> posix.connect(fd, buf, 16), "connect" + on);
                fails(posix, errno, () -> posix.getsockname(fd, buf, len), "getsockname" + on);
                fails(posix, errno, () -> posix.getpeername(fd, buf, len), "getpeername" + on);
                fails(posix, errno, posix.send(fd, buf, 1, 0), "send" + on);
                fails(posix, errno, posix.recv(fd, buf, 1, 0), "recv" + on);
                fails(posix, errno, () -> posix.shutdown(fd, Net.SHUT_RDWR), "shutdown" + on);
                fails(posix, errno, () -> posix.setsockopt(fd, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1), "setsockopt" + on);
                fails(posix, errno, () -> posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_ERROR, new int[1]),
                    "getsockopt" + on);
            }
            return 0;
        });
    }

    /**
     * bind: twice, lengths out of range, another family, an address in use, an address not on this host; after
     * each failure the socket is as it was and binds.
     */
    @Test
    void bindErrorsLeaveTheSocketUsable()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final Capability sa = heap(posix, 0, 256);
            final int fd = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            NetTestSupport.storeSockaddrIn(posix, sa, Net.INADDR_LOOPBACK, 0);
            fails(posix, Errno.EINVAL, posix.bind(fd, sa, 8), "addrlen 8");
            fails(posix, Errno.EINVAL, posix.bind(fd, sa, -1), "addrlen -1");
            fails(posix, Errno.EINVAL, posix.bind(fd, sa, 200), "addrlen 200");
            posix.memory().storeShort(sa, 0, (short)Net.AF_INET6);
            fails(posix, Errno.EAFNOSUPPORT, posix.bind(fd, sa, 16), "AF_INET6 address on an AF_INET socket");
            fails(posix, Errno.EAFNOSUPPORT, posix.bind(fd, new InetSocketAddress(NetTestSupport.LOOPBACK6, 0)),
                "IPv6 Java address on an AF_INET socket");
            final int six = (int)check(posix, posix.socket(Net.AF_INET6, Net.SOCK_STREAM, 0), "socket");
            fails(posix, Errno.EINVAL, posix.bind(six, sa, 16), "sockaddr_in length on an AF_INET6 socket");
            fails(posix, Errno.EINVAL, posix.bind(fd, InetSocketAddress.createUnresolved("localhost", 0)),
                "unresolved");

            final int listener = NetTestSupport.listenLoopback(posix, 1);
            final int taken = NetTestSupport.portOf(posix, listener);
            NetTestSupport.storeSockaddrIn(posix, sa, Net.INADDR_LOOPBACK, taken);
            fails(posix, Errno.EADDRINUSE, posix.bind(fd, sa, 16), "port of a listener");
            // 192.0.2.1 (TEST-NET-1) is no address of this host.
            NetTestSupport.storeSockaddrIn(posix, sa, 0xC0000201, 0);
            fails(posix, Errno.EADDRNOTAVAIL, posix.bind(fd, sa, 16), "foreign address");

            NetTestSupport.storeSockaddrIn(posix, sa, Net.INADDR_LOOPBACK, 0);
            check(posix, posix.bind(fd, sa, 16), "bind after the failures");
            assertTrue(NetTestSupport.portOf(posix, fd) > 0);
            fails(posix, Errno.EINVAL, posix.bind(fd, sa, 16), "bound twice");
            fails(posix, Errno.EINVAL, posix.bind(listener, sa, 16), "bind of a listener");
            return 0;
        });
    }

    /**
     * Address structs a capability does not cover are EFAULT, checked before anything happens: bind and connect
     * change nothing, accept takes no connection (the next accept gets it, with what the client sent), and the
     * out-parameters of getsockname are checked whole (an address truncated to the room given is not an error).
     */
    @Test
    void badAddressStructsAreEfaultAndConsumeNothing()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final Capability sa = heap(posix, 0, 16);
            final Capability len = heap(posix, 16, 4);
            final Capability noAccess = sa.andPermissions(Permissions.NONE);
            final Capability readOnly = sa.andPermissions(Permissions.DATA_READ);
            final Capability writeOnly = sa.andPermissions(Permission.STORE.mask() | Permission.GLOBAL.mask());
            final Capability tooShort = sa.setBoundsExact(8);
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int port = NetTestSupport.portOf(posix, listener);
            NetTestSupport.storeSockaddrIn(posix, sa, Net.INADDR_LOOPBACK, port);

            final int client = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            for (final Capability bad : new Capability[] {Capability.NULL, noAccess, writeOnly, tooShort,
                sa.withTagCleared()})
            {
                fails(posix, Errno.EFAULT, posix.bind(client, bad, 16), "bind through " + bad);
                fails(posix, Errno.EFAULT, posix.connect(client, bad, 16), "connect through " + bad);
            }
            fails(posix, Errno.ENOTCONN, posix.getpeername(client, new InetSocketAddress[1]), "still unconnected");
            assertEquals(0, NetTestSupport.portOf(posix, client), "still unbound");
            check(posix, posix.connect(client, readOnly, 16), "connect through a read-only sockaddr");
            NetTestSupport.sendString(posix, client, "kept");

            posix.memory().storeInt(len, 0, 16);
            for (final Capability bad : new Capability[] {noAccess, readOnly, tooShort})
            {
                fails(posix, Errno.EFAULT, posix.accept(listener, bad, len), "accept into " + bad);
            }
            fails(posix, Errno.EFAULT, posix.accept(listener, sa, Capability.NULL), "accept without addrlen");
            fails(posix, Errno.EFAULT, posix.accept(listener, sa, len.andPermissions(Permissions.DATA_READ)),
                "accept with a read-only addrlen");
            posix.memory().storeInt(len, 0, -1);
            fails(posix, Errno.EINVAL, posix.accept(listener, sa, len), "negative room");
            posix.memory().storeInt(len, 0, 16);
            final int conn = (int)check(posix, posix.accept(listener, sa, len), "accept");
            assertEquals("kept", NetTestSupport.recvString(posix, conn, 4), "the connection was not lost");

            fails(posix, Errno.EFAULT, posix.getsockname(conn, sa, Capability.NULL), "getsockname, NULL addrlen");
            posix.memory().storeInt(len, 0, 16);
            fails(posix, Errno.EFAULT, posix.getsockname(conn, tooShort, len), "room larger than the buffer");
            fails(posix, Errno.EFAULT, posix.getpeername(conn, readOnly, len), "read-only buffer");
            // Room 4: family and port only, and the full length reported.
            posix.memory().fill(sa, 0, 16, (byte)0x55);
            posix.memory().storeInt(len, 0, 4);
            check(posix, posix.getsockname(conn, sa, len), "getsockname");
            assertEquals(16, posix.memory().loadInt(len, 0));
            assertEquals(Net.AF_INET, posix.memory().loadShort(sa, 0));
            assertEquals(port, Net.ntohs(posix.memory().loadShort(sa, 2)));
            assertEquals(0x55555555, posix.memory().loadInt(sa, 4), "nothing stored past the room");
            return 0;
        });
    }

    /**
     * Data buffers a capability does not cover are EFAULT before anything moves: a failed recv leaves the bytes
     * for the next, a failed send sends none.
     */
    @Test
    void badDataBuffersAreEfaultAndMoveNothing()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int client = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            final int server = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            final Capability buf = heap(posix, 0, 64);
            posix.memory().storeBytes(buf, 0, "secret".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 6);
            fails(posix, Errno.EFAULT, posix.send(client, buf.andPermissions(Permissions.NONE), 6, 0), "no LOAD");
            fails(posix, Errno.EFAULT, posix.send(client, buf.setBoundsExact(3), 6, 0), "too short");
            fails(posix, Errno.EFAULT, posix.send(client, Capability.NULL, 6, 0), "NULL");
            fails(posix, Errno.EFAULT, posix.write(client, buf.withTagCleared(), 6), "write through untagged");
            fails(posix, Errno.EINVAL, posix.send(client, buf, -1, 0), "negative length");
            assertEquals(6, check(posix, posix.send(client, buf.andPermissions(Permissions.DATA_READ), 6, 0),
                "send"));
            final Capability in = heap(posix, 128, 64);
            // Wait until it has arrived, so that a recv that consumed would have something to consume.
            final short[] revents = new short[1];
            check(posix, posix.poll(new int[] {server}, new short[] {Fcntl.POLLIN}, revents, 1, -1), "poll");
            fails(posix, Errno.EFAULT, posix.recv(server, in.andPermissions(Permissions.DATA_READ), 6, 0),
                "read-only buffer");
            fails(posix, Errno.EFAULT, posix.recv(server, in.setBoundsExact(2), 6, 0), "too short");
            fails(posix, Errno.EFAULT, posix.read(server, in.andPermissions(Permissions.NONE), 6), "read, no STORE");
            fails(posix, Errno.EFAULT, posix.recv(server, in.setBoundsExact(1), 6, Net.MSG_PEEK), "peek, too short");
            assertEquals(6, check(posix, posix.recv(server, in, 6, Net.MSG_PEEK), "peek"));
            assertEquals("secret", NetTestSupport.recvString(posix, server, 6), "the first bytes, all of them");
            return 0;
        });
    }

    /**
     * A full descriptor table: socket fails with EMFILE, and so does accept, which leaves the connection queued;
     * once a descriptor is free the next accept gets it.
     */
    @Test
    void fullDescriptorTableIsEmfileAndLosesNoConnection()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int client = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            NetTestSupport.sendString(posix, client, "queued");
            final List<Integer> filler = new ArrayList<>();
            int fd;
            while ((fd = posix.dup(0)) >= 0)
            {
                filler.add(fd);
            }
            assertEquals(Errno.EMFILE, posix.lastError());
            fails(posix, Errno.EMFILE, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            fails(posix, Errno.EMFILE, posix.accept(listener, (InetSocketAddress[])null), "accept");
            fails(posix, Errno.EMFILE, posix.accept(listener, Capability.NULL, Capability.NULL), "accept");
            posix.close(filler.remove(filler.size() - 1));
            final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            assertEquals("queued", NetTestSupport.recvString(posix, conn, 6));
            return 0;
        });
    }

    /**
     * The options: defaults as on Linux, values read back (buffer sizes as the host reports them, doubled),
     * truncation to the room given, unknown and read-only options, and a listener's TCP_NODELAY and SO_KEEPALIVE
     * passed to the connections it accepts.
     */
    @Test
    void optionsReadBackAndPassToAcceptedConnections()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int fd = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            final int[] value = new int[1];
            for (final int[] option : new int[][] {{Net.SOL_SOCKET, Net.SO_REUSEADDR},
                {Net.SOL_SOCKET, Net.SO_KEEPALIVE}, {Net.IPPROTO_TCP, Net.TCP_NODELAY},
                {Net.SOL_SOCKET, Net.SO_REUSEPORT}})
            {
                check(posix, posix.getsockopt(fd, option[0], option[1], value), "getsockopt");
                assertEquals(0, value[0], "default of option " + option[1]);
                check(posix, posix.setsockopt(fd, option[0], option[1], 1), "setsockopt");
                check(posix, posix.getsockopt(fd, option[0], option[1], value), "getsockopt");
                assertEquals(1, value[0], "option " + option[1] + " set");
            }
            check(posix, posix.setsockopt(fd, Net.SOL_SOCKET, Net.SO_RCVBUF, 65536), "setsockopt");
            check(posix, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_RCVBUF, value), "getsockopt");
            assertEquals(131072, value[0], "Linux doubles the size set");
            check(posix, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_TYPE, value), "getsockopt");
            assertEquals(Net.SOCK_STREAM, value[0]);
            check(posix, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_ERROR, value), "getsockopt");
            assertEquals(0, value[0]);

            fails(posix, Errno.ENOPROTOOPT, posix.setsockopt(fd, Net.SOL_SOCKET, 999, 1), "unknown option");
            fails(posix, Errno.ENOPROTOOPT, posix.setsockopt(fd, 99, 1, 1), "unknown level");
            fails(posix, Errno.ENOPROTOOPT, posix.setsockopt(fd, Net.SOL_SOCKET, Net.SO_ERROR, 1), "SO_ERROR");
            fails(posix, Errno.ENOPROTOOPT, posix.setsockopt(fd, Net.SOL_SOCKET, Net.SO_TYPE, 1), "SO_TYPE");
            fails(posix, Errno.ENOPROTOOPT, posix.getsockopt(fd, Net.IPPROTO_TCP, 999, value), "unknown option");

            final Capability optval = heap(posix, 0, 8);
            final Capability optlen = heap(posix, 8, 4);
            posix.memory().storeInt(optval, 0, 0);
            fails(posix, Errno.EINVAL, posix.setsockopt(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, optval, 2),
                "optlen 2");
            fails(posix, Errno.EFAULT, posix.setsockopt(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY,
                optval.andPermissions(Permissions.NONE), 4), "no LOAD");
            fails(posix, Errno.EFAULT, posix.setsockopt(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY,
                optval.setBoundsExact(2), 4), "2 bytes for an int");
            check(posix, posix.getsockopt(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, value), "getsockopt");
            assertEquals(1, value[0], "unchanged by the failed calls");
            check(posix, posix.setsockopt(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, optval, 4), "setsockopt");
            posix.memory().storeInt(optlen, 0, 4);
            posix.memory().storeInt(optval, 0, 0x7777);
            check(posix, posix.getsockopt(fd, Net.IPPROTO_TCP, Net.TCP_NODELAY, optval, optlen), "getsockopt");
            assertEquals(0, posix.memory().loadInt(optval, 0));
            assertEquals(4, posix.memory().loadInt(optlen, 0));
            posix.memory().storeInt(optval, 0, -1);
            posix.memory().storeInt(optlen, 0, 2);
            check(posix, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_TYPE, optval, optlen), "getsockopt");
            assertEquals(2, posix.memory().loadInt(optlen, 0));
            assertEquals(0xFFFF0001, posix.memory().loadInt(optval, 0), "two bytes stored");
            posix.memory().storeInt(optlen, 0, -1);
            fails(posix, Errno.EINVAL, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_TYPE, optval, optlen),
                "negative optlen");
            posix.memory().storeInt(optlen, 0, 4);
            fails(posix, Errno.EFAULT, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_TYPE,
                optval.andPermissions(Permissions.DATA_READ), optlen), "read-only optval");
            fails(posix, Errno.EFAULT, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_TYPE, optval,
                optlen.andPermissions(Permissions.DATA_READ)), "read-only optlen");

            final int listener = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            check(posix, posix.setsockopt(listener, Net.IPPROTO_TCP, Net.TCP_NODELAY, 1), "setsockopt");
            check(posix, posix.setsockopt(listener, Net.SOL_SOCKET, Net.SO_KEEPALIVE, 1), "setsockopt");
            check(posix, posix.bind(listener, new InetSocketAddress(NetTestSupport.LOOPBACK, 0)), "bind");
            check(posix, posix.listen(listener, 2), "listen");
            check(posix, posix.getsockopt(listener, Net.IPPROTO_TCP, Net.TCP_NODELAY, value), "getsockopt");
            assertEquals(1, value[0], "a listener keeps TCP_NODELAY");
            final int client = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            check(posix, posix.getsockopt(conn, Net.IPPROTO_TCP, Net.TCP_NODELAY, value), "getsockopt");
            assertEquals(1, value[0], "inherited TCP_NODELAY");
            check(posix, posix.getsockopt(conn, Net.SOL_SOCKET, Net.SO_KEEPALIVE, value), "getsockopt");
            assertEquals(1, value[0], "inherited SO_KEEPALIVE");
            check(posix, posix.getsockopt(client, Net.IPPROTO_TCP, Net.TCP_NODELAY, value), "getsockopt");
            assertEquals(0, value[0], "the client's own default");
            return 0;
        });
    }

    /**
     * SO_REUSEADDR has its Linux effect: after a server closed a connection first (its side waits in TIME_WAIT),
     * a new socket may bind the port only if both the old listener and the new socket set it. This also shows that
     * the listener's last close really closes the host socket although this µprocess's selector had it registered.
     */
    @Test
    void reuseAddressRebindsAPortWithAConnectionInTimeWait()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int listener = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            check(posix, posix.setsockopt(listener, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1), "setsockopt");
            check(posix, posix.bind(listener, new InetSocketAddress(NetTestSupport.LOOPBACK, 0)), "bind");
            check(posix, posix.listen(listener, 2), "listen");
            final int port = NetTestSupport.portOf(posix, listener);
            final int client = NetTestSupport.connectLoopback(posix, port);
            // Waiting registers the listener with this µprocess's selector.
            final short[] revents = new short[1];
            check(posix, posix.poll(new int[] {listener}, new short[] {Fcntl.POLLIN}, revents, 1, -1), "poll");
            final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            check(posix, posix.close(conn), "close");
            assertEquals(0, posix.recv(client, new byte[1], 0, 1, 0), "the server's FIN");
            check(posix, posix.close(client), "close");
            check(posix, posix.close(listener), "close");
            final InetSocketAddress same = new InetSocketAddress(NetTestSupport.LOOPBACK, port);
            final int without = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            fails(posix, Errno.EADDRINUSE, posix.bind(without, same), "bind without SO_REUSEADDR");
            final int with = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            check(posix, posix.setsockopt(with, Net.SOL_SOCKET, Net.SO_REUSEADDR, 1), "setsockopt");
            check(posix, posix.bind(with, same), "bind with SO_REUSEADDR");
            check(posix, posix.listen(with, 2), "listen");
            final int again = NetTestSupport.connectLoopback(posix, port);
            check(posix, posix.close(again), "close");
            return 0;
        });
    }
}
