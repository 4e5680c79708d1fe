package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.Signal;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.ufork.posix.PosixTestSupport.check;
import static dev.ufork.posix.PosixTestSupport.guarded;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A listening socket inherited across fork: several µprocesses block in accept on one description, each connection
 * goes to exactly one of them, and signals interrupt blocked socket calls without harming the shared socket.
 */
class SocketForkAcceptTest extends PosixTestBase
{
    private static final int CHILDREN = 4;
    private static final int CONNECTIONS = 40;

    /**
     * Children serve connections on the inherited listener until told to stop; each reports every connection id it
     * served through a pipe. Every connection is answered once, by a child, and the children's reports name each
     * id exactly once. All children wake for each connection and the losers go back to waiting: a spurious error
     * would fail the child.
     */
    @Test
    void everyConnectionIsServedExactlyOnceByOneChild()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 64);
            final int port = NetTestSupport.portOf(posix, listener);
            final int[] report = new int[2];
            check(posix, posix.pipe(report), "pipe");
            final Set<Integer> children = new HashSet<>();
            for (int k = 0; k < CHILDREN; k++)
            {
                final int child = posix.fork(guarded(failure, c ->
                {
                    c.close(report[0]);
                    while (true)
                    {
                        final int conn = (int)check(c, c.accept(listener, (InetSocketAddress[])null), "accept");
                        final String request = NetTestSupport.recvString(c, conn, 8);
                        if (request.equals("stop    "))
                        {
                            c.close(conn);
                            return 0;
                        }
                        final int id = Integer.parseInt(request.trim());
                        NetTestSupport.sendString(c, conn, String.format("%8d", c.getpid()));
                        final byte[] served = ByteBuffer.allocate(8).putInt(id).putInt(c.getpid()).array();
                        assertEquals(8, check(c, c.write(report[1], served, 0, 8), "report"));
                        c.close(conn);
                    }
                }));
                children.add((int)check(posix, child, "fork"));
            }
            check(posix, posix.close(report[1]), "close");
            final Map<Integer, Integer> answeredBy = new HashMap<>();
            for (int id = 0; id < CONNECTIONS; id++)
            {
                final int fd = NetTestSupport.connectLoopback(posix, port);
                NetTestSupport.sendString(posix, fd, String.format("%8d", id));
                final int pid = Integer.parseInt(NetTestSupport.recvString(posix, fd, 8).trim());
                assertTrue(children.contains(pid), "answered by " + pid + ", not a child");
                assertEquals(0, posix.recv(fd, new byte[1], 0, 1, 0), "one answer per connection");
                answeredBy.put(id, pid);
                posix.close(fd);
            }
            for (int k = 0; k < CHILDREN; k++)
            {
                final int fd = NetTestSupport.connectLoopback(posix, port);
                NetTestSupport.sendString(posix, fd, "stop    ");
                posix.close(fd);
            }
            final Map<Integer, Integer> reported = new HashMap<>();
            final byte[] entry = new byte[8];
            long n;
            while ((n = check(posix, posix.read(report[0], entry, 0, 8), "read")) > 0)
            {
                assertEquals(8, n, "reports are atomic pipe writes");
                final ByteBuffer b = ByteBuffer.wrap(entry);
                final int id = b.getInt();
                assertEquals(null, reported.put(id, b.getInt()), "connection " + id + " served twice");
            }
            assertEquals(answeredBy, reported, "who served what, as the clients saw it and as the servers did");
            for (int k = 0; k < CHILDREN; k++)
            {
                final int[] status = new int[1];
                assertTrue(children.contains(posix.waitpid(-1, status, 0)));
                assertEquals(0, status[0], "child status");
            }
            return 0;
        });
    }

    /**
     * A child blocked in accept on the shared listener is interrupted by a signal with a handler: accept fails with
     * EINTR, the handler ran, and afterwards both it and a sibling blocked in accept on the same description all
     * along each serve a connection.
     */
    @Test
    void signalInterruptsABlockedAcceptAndTheSharedSocketStillWorks()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 8);
            final int port = NetTestSupport.portOf(posix, listener);
            final int[] events = new int[2];
            check(posix, posix.pipe(events), "pipe");
            final AtomicInteger handled = new AtomicInteger();
            final int interrupted = posix.fork(guarded(failure, c ->
            {
                c.signal(Signal.SIGUSR1.number(), (p, sig) -> handled.incrementAndGet());
                c.write(events[1], new byte[] {'r'}, 0, 1);
                int conn;
                while ((conn = c.accept(listener, (InetSocketAddress[])null)) < 0)
                {
                    assertEquals(Errno.EINTR, c.lastError());
                    c.write(events[1], new byte[] {'i'}, 0, 1);
                }
                NetTestSupport.sendString(c, conn, "A");
                return 0;
            }));
            check(posix, interrupted, "fork");
            final byte[] one = new byte[1];
            check(posix, posix.read(events[0], one, 0, 1), "read");
            assertEquals('r', one[0]);
            // The signal may come before the child blocks (then the handler runs and accept goes on waiting, as
            // on Linux), so it is sent until the child reports an EINTR.
            final short[] revents = new short[1];
            do
            {
                check(posix, posix.kill(interrupted, Signal.SIGUSR1.number()), "kill");
            }
            while (check(posix, posix.poll(new int[] {events[0]}, new short[] {Fcntl.POLLIN}, revents, 1, 20),
                "poll") == 0);
            check(posix, posix.read(events[0], one, 0, 1), "read");
            assertEquals('i', one[0]);
            assertTrue(handled.get() > 0);

            final int sibling = posix.fork(guarded(failure, c ->
            {
                final int conn = (int)check(c, c.accept(listener, (InetSocketAddress[])null), "accept");
                NetTestSupport.sendString(c, conn, "B");
                return 0;
            }));
            check(posix, sibling, "fork");
            final Set<String> answers = new HashSet<>();
            for (int i = 0; i < 2; i++)
            {
                final int fd = NetTestSupport.connectLoopback(posix, port);
                answers.add(NetTestSupport.recvToEnd(posix, fd));
                posix.close(fd);
            }
            assertEquals(Set.of("A", "B"), answers, "each accepting µprocess served one connection");
            final int[] status = new int[1];
            assertEquals(interrupted, posix.waitpid(interrupted, status, 0));
            assertEquals(0, status[0]);
            assertEquals(sibling, posix.waitpid(sibling, status, 0));
            assertEquals(0, status[0]);
            return 0;
        });
    }

    /**
     * A child blocked in recv on a connection it shares with its parent is interrupted: EINTR, nothing lost, and the
     * next recv gets what the peer sends; the parent, sharing the description, still sends on it.
     */
    @Test
    void signalInterruptsABlockedRecvOnASharedConnection()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            final int client = NetTestSupport.connectLoopback(posix, NetTestSupport.portOf(posix, listener));
            final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
            final int[] events = new int[2];
            check(posix, posix.pipe(events), "pipe");
            final int child = posix.fork(guarded(failure, c ->
            {
                final AtomicInteger handled = new AtomicInteger();
                c.signal(Signal.SIGUSR2.number(), (p, sig) -> handled.incrementAndGet());
                c.write(events[1], new byte[] {'r'}, 0, 1);
                final byte[] buffer = new byte[16];
                long n;
                boolean interrupted = false;
                while ((n = c.recv(conn, buffer, 0, buffer.length, 0)) < 0)
                {
                    assertEquals(Errno.EINTR, c.lastError());
                    if (!interrupted)
                    {
                        interrupted = true;
                        c.write(events[1], new byte[] {'i'}, 0, 1);
                    }
                }
                assertTrue(interrupted);
                assertTrue(handled.get() > 0);
                assertEquals("after", new String(buffer, 0, (int)n, java.nio.charset.StandardCharsets.UTF_8));
                NetTestSupport.sendString(c, conn, "child got it");
                return 0;
            }));
            check(posix, child, "fork");
            final byte[] one = new byte[1];
            check(posix, posix.read(events[0], one, 0, 1), "read");
            final short[] revents = new short[1];
            do
            {
                check(posix, posix.kill(child, Signal.SIGUSR2.number()), "kill");
            }
            while (check(posix, posix.poll(new int[] {events[0]}, new short[] {Fcntl.POLLIN}, revents, 1, 20),
                "poll") == 0);
            NetTestSupport.sendString(posix, client, "after");
            assertEquals("child got it", NetTestSupport.recvString(posix, client, 12));
            NetTestSupport.sendString(posix, conn, "parent too");
            assertEquals("parent too", NetTestSupport.recvString(posix, client, 10));
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, status[0]);
            return 0;
        });
    }

    /**
     * The pre-forked event-loop pattern: children poll a shared non-blocking listener (and a pipe that tells them
     * to stop) and accept when it is readable. All of them see each connection; the losers' accept fails with
     * EAGAIN, never another error, and every connection is answered once. The connections accepted do not inherit
     * O_NONBLOCK, as on Linux.
     */
    @Test
    void childrenPollingANonBlockingSharedListenerServeEachConnectionOnce()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 64);
            final int port = NetTestSupport.portOf(posix, listener);
            check(posix, posix.fcntl(listener, Fcntl.F_SETFL, Fcntl.O_NONBLOCK), "fcntl");
            final int[] stop = new int[2];
            check(posix, posix.pipe(stop), "pipe");
            final Set<Integer> children = new HashSet<>();
            for (int k = 0; k < CHILDREN; k++)
            {
                children.add((int)check(posix, posix.fork(guarded(failure, c ->
                {
                    c.close(stop[1]);
                    final int[] fds = {listener, stop[0]};
                    final short[] events = {Fcntl.POLLIN, Fcntl.POLLIN};
                    final short[] revents = new short[2];
                    while (true)
                    {
                        check(c, c.poll(fds, events, revents, 2, -1), "poll");
                        if (revents[1] != 0)
                        {
                            assertEquals(Fcntl.POLLHUP, revents[1], "the stop pipe's write end closed");
                            return 0;
                        }
                        assertEquals(Fcntl.POLLIN, revents[0]);
                        final int conn = c.accept(listener, (InetSocketAddress[])null);
                        if (conn < 0)
                        {
                            assertEquals(Errno.EAGAIN, c.lastError(), "a lost race is EAGAIN");
                            continue;
                        }
                        assertEquals(Fcntl.O_RDWR, c.fcntl(conn, Fcntl.F_GETFL, 0), "blocking connection");
                        final String id = NetTestSupport.recvString(c, conn, 8);
                        NetTestSupport.sendString(c, conn, id + String.format("%8d", c.getpid()));
                        c.close(conn);
                    }
                })), "fork"));
            }
            check(posix, posix.close(stop[0]), "close");
            for (int id = 0; id < CONNECTIONS; id++)
            {
                final int fd = NetTestSupport.connectLoopback(posix, port);
                final String request = String.format("%8d", id);
                NetTestSupport.sendString(posix, fd, request);
                final String answer = NetTestSupport.recvToEnd(posix, fd);
                assertEquals(16, answer.length(), "one answer: " + answer);
                assertEquals(request, answer.substring(0, 8));
                assertTrue(children.contains(Integer.parseInt(answer.substring(8).trim())), answer);
                posix.close(fd);
            }
            check(posix, posix.close(stop[1]), "close");
            for (int k = 0; k < CHILDREN; k++)
            {
                final int[] status = new int[1];
                assertTrue(children.contains(posix.waitpid(-1, status, 0)));
                assertEquals(0, status[0], "child status");
            }
            return 0;
        });
    }
}
