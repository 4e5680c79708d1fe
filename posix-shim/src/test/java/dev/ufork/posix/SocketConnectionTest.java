package dev.ufork.posix;

import dev.ufork.kernel.CopyMode;
import dev.ufork.kernel.Errno;
import dev.ufork.kernel.Signal;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.ufork.posix.PosixTestSupport.check;
import static dev.ufork.posix.PosixTestSupport.guarded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A connection's life: connecting (blocking, non-blocking, interrupted, refused), shutting down, the peer closing
 * or resetting, SIGPIPE, peeking and the non-blocking paths.
 */
class SocketConnectionTest extends PosixTestBase
{
    private static final short IN = Fcntl.POLLIN;
    private static final short OUT = Fcntl.POLLOUT;

    @Override
    CopyMode copyMode()
    {
        return CopyMode.COA;
    }

    private static void fails(final Posix posix, final Errno expected, final long result, final String what)
    {
        assertEquals(-1, result, what + " should fail");
        assertEquals(expected, posix.lastError(), what);
    }

    private static short pollOne(final Posix posix, final int fd, final short events, final int timeout)
    {
        final short[] revents = new short[1];
        check(posix, posix.poll(new int[] {fd}, new short[] {events}, revents, 1, timeout), "poll");
        return revents[0];
    }

    private static int soError(final Posix posix, final int fd)
    {
        final int[] value = new int[1];
        check(posix, posix.getsockopt(fd, Net.SOL_SOCKET, Net.SO_ERROR, value), "getsockopt");
        return value[0];
    }

    /** @return a port nothing listens on (bound once, then closed). */
    private static int closedPort(final Posix posix)
    {
        final int fd = NetTestSupport.listenLoopback(posix, 1);
        final int port = NetTestSupport.portOf(posix, fd);
        check(posix, posix.close(fd), "close");
        return port;
    }

    /**
     * A listener whose accept queue is full (backlog 1, two connections queued): the host drops further SYNs, so
     * a connect to it stays in progress until the queue has room and the SYN is sent again (about a second later).
     */
    private static int fullListener(final Posix posix, final int[] queued)
    {
        final int listener = NetTestSupport.listenLoopback(posix, 1);
        final int port = NetTestSupport.portOf(posix, listener);
        for (int i = 0; i < queued.length; i++)
        {
            queued[i] = NetTestSupport.connectLoopback(posix, port);
        }
        return listener;
    }

    /**
     * The state errors: a refused blocking connect (the socket may connect again after it), EISCONN, connecting a
     * listener, listening when connected, the unconnected socket's ENOTCONN and EPIPE, accept on what does not
     * listen, bad flags and {@code how}, and the wildcard address as a destination.
     */
    @Test
    void connectionStatesAndTheirErrors()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            posix.signal(Signal.SIGPIPE.number(), Posix.SIG_IGN);
            final int refusedPort = closedPort(posix);
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int port = NetTestSupport.portOf(posix, listener);
            final int fd = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            fails(posix, Errno.ENOTCONN, posix.recv(fd, new byte[1], 0, 1, 0), "recv unconnected");
            fails(posix, Errno.ENOTCONN, posix.getpeername(fd, new InetSocketAddress[1]), "getpeername unconnected");
            fails(posix, Errno.ENOTCONN, posix.shutdown(fd, Net.SHUT_WR), "shutdown unconnected");
            fails(posix, Errno.EPIPE, posix.send(fd, new byte[1], 0, 1, 0), "send unconnected (Linux: EPIPE)");
            fails(posix, Errno.EINVAL, posix.accept(fd, (InetSocketAddress[])null), "accept, not listening");
            fails(posix, Errno.ECONNREFUSED,
                posix.connect(fd, new InetSocketAddress(NetTestSupport.LOOPBACK, refusedPort)), "closed port");
            check(posix, posix.connect(fd, new InetSocketAddress(NetTestSupport.LOOPBACK, port)),
                "connect after a refusal");
            fails(posix, Errno.EISCONN, posix.connect(fd, new InetSocketAddress(NetTestSupport.LOOPBACK, port)),
                "connect twice");
            fails(posix, Errno.EINVAL, posix.listen(fd, 1), "listen when connected");
            fails(posix, Errno.EINVAL, posix.shutdown(fd, 3), "how 3");
            fails(posix, Errno.EISCONN, posix.connect(listener, new InetSocketAddress(NetTestSupport.LOOPBACK, port)),
                "connect a listener");
            fails(posix, Errno.EINVAL, posix.accept4(listener, (InetSocketAddress[])null, 0x1), "accept4 flags");
            fails(posix, Errno.ENOTCONN, posix.recv(listener, new byte[1], 0, 1, 0), "recv on a listener");
            fails(posix, Errno.EOPNOTSUPP, posix.recv(fd, new byte[1], 0, 1, 0x1), "MSG_OOB");
            fails(posix, Errno.EOPNOTSUPP, posix.send(fd, new byte[1], 0, 1, Net.MSG_PEEK), "MSG_PEEK on send");

            final int wild = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
            check(posix, posix.connect(wild, new InetSocketAddress(SocketAddresses.wildcard(Net.AF_INET, 0)
                .getAddress(), port)), "connect to 0.0.0.0");
            final InetSocketAddress[] peer = new InetSocketAddress[1];
            check(posix, posix.getpeername(wild, peer), "getpeername");
            assertEquals(new InetSocketAddress(NetTestSupport.LOOPBACK, port), peer[0]);
            return 0;
        });
    }

    /**
     * A non-blocking connect to a closed port: EINPROGRESS, then POLLOUT with POLLERR and POLLHUP, SO_ERROR says
     * ECONNREFUSED once; the next connect reports ECONNABORTED (the error was taken), and the one after starts a new
     * attempt whose failure that connect then reports itself.
     */
    @Test
    void nonBlockingConnectRefused()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final InetSocketAddress nowhere = new InetSocketAddress(NetTestSupport.LOOPBACK, closedPort(posix));
            final int fd = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK, 0),
                "socket");
            fails(posix, Errno.EINPROGRESS, posix.connect(fd, nowhere), "connect");
            assertEquals(OUT | Fcntl.POLLERR | Fcntl.POLLHUP, pollOne(posix, fd, OUT, -1));
            assertEquals(Errno.ECONNREFUSED.code(), soError(posix, fd));
            assertEquals(0, soError(posix, fd), "read once");
            assertEquals(OUT | Fcntl.POLLHUP, pollOne(posix, fd, OUT, 0), "no error any more");
            fails(posix, Errno.ECONNABORTED, posix.connect(fd, nowhere), "the attempt's end, error already taken");
            fails(posix, Errno.EINPROGRESS, posix.connect(fd, nowhere), "a new attempt");
            pollOne(posix, fd, OUT, -1);
            fails(posix, Errno.ECONNREFUSED, posix.connect(fd, nowhere), "reported by connect");
            return 0;
        });
    }

    /**
     * A non-blocking connect that stays in progress (the listener's queue is full): EINPROGRESS, EALREADY, no
     * POLLOUT, SO_ERROR 0, EAGAIN for transfers, ENOTCONN for getpeername. Once the listener has room the
     * connection completes: POLLOUT, SO_ERROR 0, the next connect says 0 and the one after EISCONN, as on Linux.
     */
    @Test
    void nonBlockingConnectInProgressThenComplete()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int[] queued = new int[2];
            final int listener = fullListener(posix, queued);
            final InetSocketAddress target = new InetSocketAddress(NetTestSupport.LOOPBACK,
                NetTestSupport.portOf(posix, listener));
            final int fd = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM | Net.SOCK_NONBLOCK, 0),
                "socket");
            fails(posix, Errno.EINPROGRESS, posix.connect(fd, target), "connect");
            fails(posix, Errno.EALREADY, posix.connect(fd, target), "connect again");
            assertEquals(0, pollOne(posix, fd, OUT, 0));
            assertEquals(0, soError(posix, fd));
            fails(posix, Errno.EAGAIN, posix.recv(fd, new byte[1], 0, 1, 0), "recv while connecting");
            fails(posix, Errno.EAGAIN, posix.send(fd, new byte[1], 0, 1, 0), "send while connecting");
            fails(posix, Errno.ENOTCONN, posix.getpeername(fd, new InetSocketAddress[1]), "getpeername");

            for (int i = 0; i < queued.length; i++)
            {
                check(posix, posix.close((int)check(posix, posix.accept(listener, (InetSocketAddress[])null),
                    "accept")), "close");
            }
            assertEquals(OUT, pollOne(posix, fd, OUT, -1));
            assertEquals(0, soError(posix, fd));
            check(posix, posix.connect(fd, target), "the first connect after completion reports it");
            fails(posix, Errno.EISCONN, posix.connect(fd, target), "then EISCONN");
            NetTestSupport.sendString(posix, fd, "late");
            final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            assertEquals("late", NetTestSupport.recvString(posix, conn, 4));
            return 0;
        });
    }

    /**
     * A blocking connect interrupted by a signal with a handler fails with EINTR and the attempt goes on: a second
     * blocking connect waits for it and succeeds once the listener has room.
     */
    @Test
    void interruptedBlockingConnectGoesOn()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int[] queued = new int[2];
            final int listener = fullListener(posix, queued);
            final int port = NetTestSupport.portOf(posix, listener);
            final int[] events = new int[2];
            check(posix, posix.pipe(events), "pipe");
            final int child = posix.fork(guarded(failure, c ->
            {
                final AtomicInteger handled = new AtomicInteger();
                c.signal(Signal.SIGUSR1.number(), (p, sig) -> handled.incrementAndGet());
                final int fd = (int)check(c, c.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
                final InetSocketAddress target = new InetSocketAddress(NetTestSupport.LOOPBACK, port);
                c.write(events[1], new byte[] {'r'}, 0, 1);
                fails(c, Errno.EINTR, c.connect(fd, target), "interrupted connect");
                assertTrue(handled.get() > 0);
                c.write(events[1], new byte[] {'i'}, 0, 1);
                // Signals that are still coming may interrupt this one too; it is retried, as a C program would.
                while (c.connect(fd, target) < 0)
                {
                    assertEquals(Errno.EINTR, c.lastError());
                }
                NetTestSupport.sendString(c, fd, "through");
                return 0;
            }));
            check(posix, child, "fork");
            final byte[] one = new byte[1];
            check(posix, posix.read(events[0], one, 0, 1), "read");
            while (pollOne(posix, events[0], IN, 20) == 0)
            {
                check(posix, posix.kill(child, Signal.SIGUSR1.number()), "kill");
            }
            check(posix, posix.read(events[0], one, 0, 1), "read");
            assertEquals('i', one[0]);
            for (int i = 0; i < queued.length; i++)
            {
                posix.close((int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept"));
            }
            final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            assertEquals("through", NetTestSupport.recvString(posix, conn, 7));
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, status[0]);
            return 0;
        });
    }

    /**
     * shutdown(SHUT_WR) gives the peer end of file after the data, while the other direction still works; sending
     * afterwards is EPIPE; SHUT_RD makes reads find end of file; both halves shut is POLLHUP.
     */
    @Test
    void shutdownEndsOneDirection()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int client = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            final int server = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            NetTestSupport.sendString(posix, client, "request");
            check(posix, posix.shutdown(client, Net.SHUT_WR), "shutdown");
            assertEquals(OUT, pollOne(posix, client, OUT, 0), "a shut writing half polls writable, as on Linux");
            fails(posix, Errno.EPIPE, posix.send(client, new byte[1], 0, 1, Net.MSG_NOSIGNAL), "send after SHUT_WR");
            assertEquals("request", NetTestSupport.recvToEnd(posix, server));
            assertEquals(IN | Net.POLLRDHUP, pollOne(posix, server, (short)(IN | Net.POLLRDHUP), 0));
            NetTestSupport.sendString(posix, server, "response");
            assertEquals("response", NetTestSupport.recvString(posix, client, 8));

            check(posix, posix.shutdown(server, Net.SHUT_RD), "shutdown");
            assertEquals(0, posix.recv(server, new byte[1], 0, 1, 0), "end of file after SHUT_RD");
            check(posix, posix.shutdown(server, Net.SHUT_WR), "shutdown");
            assertEquals(0, posix.recv(client, new byte[1], 0, 1, 0), "end of file for the client");
            assertEquals(IN | OUT | Fcntl.POLLHUP | Net.POLLRDHUP,
                pollOne(posix, client, (short)(IN | OUT | Net.POLLRDHUP), 0), "both halves shut");
            check(posix, posix.shutdown(server, Net.SHUT_RDWR), "shutting again changes nothing");
            return 0;
        });
    }

    /** What a child sees when it sends to a peer that has closed, with each SIGPIPE disposition. */
    private int sendToClosedPeer(final Posix posix, final int listener, final PosixTestSupport.Body sender)
    {
        final int child = posix.fork(guarded(failure, sender));
        check(posix, child, "fork");
        final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
        // The child learns of the close (end of file) before it sends.
        NetTestSupport.sendString(posix, conn, "bye");
        check(posix, posix.close(conn), "close");
        final int[] status = new int[1];
        assertEquals(child, posix.waitpid(child, status, 0));
        return status[0];
    }

    /** Connects to the parent's listener (its port is the listener's, which the child inherited) and sends. */
    private static long sendUntilFailure(final Posix c, final int listener, final int flags, final boolean useWrite)
    {
        final int fd = NetTestSupport.connectLoopback(c, NetTestSupport.portOf(c, listener));
        final byte[] buffer = new byte[1024];
        while (c.recv(fd, buffer, 0, buffer.length, 0) > 0)
        {
            // Whatever the parent sent before closing.
        }
        long n;
        do
        {
            n = useWrite ? c.write(fd, buffer, 0, buffer.length) : c.send(fd, buffer, 0, buffer.length, flags);
        }
        while (n > 0);
        return n;
    }

    /**
     * Sending to a peer that closed: by default SIGPIPE ends the sender; ignored, or with MSG_NOSIGNAL, the send
     * fails with EPIPE; with a handler, the handler runs and the send fails with EPIPE (write too).
     */
    @Test
    void sendToAClosedPeerIsSigpipeOrEpipe()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 8);
            final int killed = sendToClosedPeer(posix, listener, c ->
            {
                sendUntilFailure(c, listener, 0, false);
                return 1;
            });
            assertTrue(Posix.WIFSIGNALED(killed), "status 0x" + Integer.toHexString(killed));
            assertEquals(Signal.SIGPIPE.number(), Posix.WTERMSIG(killed));

            final int ignored = sendToClosedPeer(posix, listener, c ->
            {
                c.signal(Signal.SIGPIPE.number(), Posix.SIG_IGN);
                assertEquals(-1, sendUntilFailure(c, listener, 0, false));
                assertEquals(Errno.EPIPE, c.lastError());
                return 0;
            });
            assertEquals(0, ignored);

            final int noSignal = sendToClosedPeer(posix, listener, c ->
            {
                final AtomicInteger handled = new AtomicInteger();
                c.signal(Signal.SIGPIPE.number(), (p, sig) -> handled.incrementAndGet());
                assertEquals(-1, sendUntilFailure(c, listener, Net.MSG_NOSIGNAL, false));
                assertEquals(Errno.EPIPE, c.lastError());
                assertEquals(0, handled.get(), "MSG_NOSIGNAL");
                return 0;
            });
            assertEquals(0, noSignal);

            final int handledByWrite = sendToClosedPeer(posix, listener, c ->
            {
                final AtomicInteger handled = new AtomicInteger();
                c.signal(Signal.SIGPIPE.number(), (p, sig) -> handled.incrementAndGet());
                assertEquals(-1, sendUntilFailure(c, listener, 0, true));
                assertEquals(Errno.EPIPE, c.lastError());
                assertEquals(1, handled.get(), "one SIGPIPE for the failed write");
                return 0;
            });
            assertEquals(0, handledByWrite);
            return 0;
        });
    }

    /**
     * A peer that resets the connection (a plain Java client closing with SO_LINGER 0): a blocked recv fails with
     * ECONNRESET once, then finds end of file; poll reports the hang-up; send is EPIPE.
     */
    @Test
    void resetByThePeer() throws Exception
    {
        final CompletableFuture<Integer> port = new CompletableFuture<>();
        final CompletableFuture<Void> received = new CompletableFuture<>();
        final int pid = system.spawn(guarded(failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            port.complete(NetTestSupport.portOf(posix, listener));
            final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            assertEquals("x", NetTestSupport.recvString(posix, conn, 1));
            received.complete(null);
            fails(posix, Errno.ECONNRESET, posix.recv(conn, new byte[8], 0, 8, 0), "recv after a reset");
            assertEquals(0, posix.recv(conn, new byte[8], 0, 8, 0), "then end of file");
            assertEquals(IN | OUT | Fcntl.POLLHUP | Net.POLLRDHUP,
                pollOne(posix, conn, (short)(IN | OUT | Net.POLLRDHUP), 0));
            fails(posix, Errno.EPIPE, posix.send(conn, new byte[1], 0, 1, Net.MSG_NOSIGNAL), "send after a reset");
            fails(posix, Errno.ENOTCONN, posix.getpeername(conn, new InetSocketAddress[1]), "getpeername");
            return 0;
        }));
        try (Socket client = new Socket(NetTestSupport.LOOPBACK, port.get(1, TimeUnit.MINUTES)))
        {
            client.getOutputStream().write('x');
            received.get(1, TimeUnit.MINUTES);
            client.setSoLinger(true, 0);
        }
        assertEquals(0, system.awaitExit(pid));
        if (failure.get() != null)
        {
            throw new AssertionError(failure.get());
        }
    }

    /**
     * MSG_PEEK shows data without taking it (and more as more arrives); MSG_DONTWAIT and O_NONBLOCK give EAGAIN
     * on nothing; MSG_WAITALL waits for all it asks; a peer's close after data is seen by POLLRDHUP once the data
     * is read.
     */
    @Test
    void peekDontWaitAndWaitAll()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int client = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            final int server = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            fails(posix, Errno.EAGAIN, posix.recv(server, new byte[4], 0, 4, Net.MSG_DONTWAIT), "MSG_DONTWAIT");
            fails(posix, Errno.EAGAIN, posix.recv(server, new byte[4], 0, 4, Net.MSG_PEEK | Net.MSG_DONTWAIT),
                "peek, MSG_DONTWAIT");
            check(posix, posix.fcntl(server, Fcntl.F_SETFL, Fcntl.O_NONBLOCK), "fcntl");
            fails(posix, Errno.EAGAIN, posix.recv(server, new byte[4], 0, 4, 0), "O_NONBLOCK");
            fails(posix, Errno.EAGAIN, posix.read(server, new byte[4], 0, 4), "read, O_NONBLOCK");
            check(posix, posix.fcntl(server, Fcntl.F_SETFL, 0), "fcntl");

            NetTestSupport.sendString(posix, client, "hello");
            final byte[] peeked = new byte[10];
            assertEquals(5, check(posix, posix.recv(server, peeked, 0, 10, Net.MSG_PEEK), "peek"));
            assertEquals("hello", new String(peeked, 0, 5, StandardCharsets.US_ASCII));
            NetTestSupport.sendString(posix, client, " world");
            // Peeking again shows more as it arrives, still without taking any.
            long seen;
            while ((seen = check(posix, posix.recv(server, peeked, 0, 10, Net.MSG_PEEK), "peek")) < 10)
            {
                pollOne(posix, server, IN, 5);
            }
            assertEquals(10, seen);
            assertEquals("hello worl", new String(peeked, StandardCharsets.US_ASCII));
            assertEquals(IN, pollOne(posix, server, IN, 0), "held-back bytes are readable");

            final int child = posix.fork(guarded(failure, c ->
            {
                NetTestSupport.sendString(c, client, "!!");
                c.close(client);
                return 0;
            }));
            check(posix, child, "fork");
            check(posix, posix.close(client), "close");
            final byte[] all = new byte[13];
            assertEquals(13, check(posix, posix.recv(server, all, 0, 13, Net.MSG_WAITALL), "recv"));
            assertEquals("hello world!!", new String(all, StandardCharsets.US_ASCII));
            assertEquals(IN | Net.POLLRDHUP, pollOne(posix, server, (short)(IN | Net.POLLRDHUP), -1));
            assertEquals(0, posix.recv(server, all, 0, 13, 0));
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, status[0]);
            return 0;
        });
    }

    /**
     * Non-blocking sends fill the connection: then EAGAIN (or a short count) and no POLLOUT; once the peer has
     * read everything, POLLOUT again. A blocking send of more than fits completes as the peer reads.
     */
    @Test
    void fullConnectionIsEagainUntilThePeerReads()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int client = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            final int server = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            check(posix, posix.setsockopt(client, Net.SOL_SOCKET, Net.SO_SNDBUF, 4096), "setsockopt");
            check(posix, posix.setsockopt(server, Net.SOL_SOCKET, Net.SO_RCVBUF, 4096), "setsockopt");
            final byte[] chunk = new byte[16 << 10];
            long sent = 0;
            // Acknowledgements in flight may free a little room after an EAGAIN: fill until poll agrees.
            for (int round = 0; round == 0 || pollOne(posix, client, OUT, 0) != 0; round++)
            {
                assertTrue(round < 1000, "never full");
                long n;
                while ((n = posix.send(client, chunk, 0, chunk.length, Net.MSG_DONTWAIT)) > 0)
                {
                    sent += n;
                }
                assertEquals(Errno.EAGAIN, posix.lastError());
            }
            assertTrue(sent > 0);
            long received = 0;
            while (received < sent)
            {
                received += check(posix, posix.recv(server, chunk, 0, chunk.length, 0), "recv");
            }
            assertEquals(sent, received);
            assertEquals(OUT, pollOne(posix, client, OUT, -1));

            // A fresh connection with the host's buffer sizes (tiny ones make a big transfer crawl).
            final int sender = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            final int receiver = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            final byte[] big = new byte[1 << 20];
            final int child = posix.fork(guarded(failure, c ->
            {
                long got = 0;
                final byte[] in = new byte[16384];
                while (got < big.length)
                {
                    got += check(c, c.recv(receiver, in, 0, in.length, 0), "recv");
                }
                return 0;
            }));
            check(posix, child, "fork");
            assertEquals(big.length, check(posix, posix.send(sender, big, 0, big.length, 0), "blocking send"));
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, status[0]);
            return 0;
        });
    }

    /**
     * Closing the last descriptor of a listener this µprocess waited on (so its selector held the channel) closes
     * the host socket at once: a connect right after is refused.
     */
    @Test
    void closedListenerRefusesAtOnce()
    {
        PosixTestSupport.runClean(system, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int port = NetTestSupport.portOf(posix, listener);
            assertEquals(0, pollOne(posix, listener, IN, 0));
            final int client = NetTestSupport.connectLoopback(posix, port);
            assertEquals(IN, pollOne(posix, listener, IN, -1));
            check(posix, posix.close(listener), "close");
            fails(posix, Errno.ECONNREFUSED, posix.connect(
                (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket"),
                new InetSocketAddress(NetTestSupport.LOOPBACK, port)), "connect to the closed listener");
            posix.close(client);
            return 0;
        });
    }
}
