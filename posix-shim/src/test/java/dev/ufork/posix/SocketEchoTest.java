package dev.ufork.posix;

import dev.ufork.capability.Capability;
import dev.ufork.kernel.CopyMode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.ufork.posix.NetTestSupport.heap;
import static dev.ufork.posix.PosixTestSupport.check;
import static dev.ufork.posix.PosixTestSupport.guarded;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TCP echo between µprocesses and with a plain Java client: the struct layouts, read/write and send/recv. */
class SocketEchoTest extends PosixTestBase
{
    @Override
    CopyMode copyMode()
    {
        return CopyMode.COA;
    }

    /**
     * A forked child connects through a {@code sockaddr_in} it writes itself and echoes through capability buffers;
     * the parent's accept, getsockname and getpeername fill C structs laid out as on Linux.
     */
    @Test
    void echoBetweenMicroprocessesWithCStructs()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final Capability sockaddr = heap(posix, 0, 16);
            final Capability addrlen = heap(posix, 16, 4);
            final int listener = (int)check(posix, posix.socket(Net.AF_INET, Net.SOCK_STREAM, Net.IPPROTO_TCP),
                "socket");
            NetTestSupport.storeSockaddrIn(posix, sockaddr, Net.INADDR_LOOPBACK, 0);
            check(posix, posix.bind(listener, sockaddr, 16), "bind");
            check(posix, posix.listen(listener, 8), "listen");
            posix.memory().storeInt(addrlen, 0, 16);
            check(posix, posix.getsockname(listener, sockaddr, addrlen), "getsockname");
            assertEquals(16, posix.memory().loadInt(addrlen, 0));
            assertEquals(Net.AF_INET, posix.memory().loadShort(sockaddr, 0));
            final int port = Net.ntohs(posix.memory().loadShort(sockaddr, 2));
            assertTrue(port > 0, "ephemeral port " + port);
            assertEquals(Net.INADDR_LOOPBACK, Net.ntohl(posix.memory().loadInt(sockaddr, 4)));
            assertEquals(0L, posix.memory().loadLong(sockaddr, 8), "sin_zero");

            final int child = posix.fork(guarded(failure, c ->
            {
                c.close(listener);
                final Capability to = heap(c, 0, 16);
                final int fd = (int)check(c, c.socket(Net.AF_INET, Net.SOCK_STREAM, 0), "socket");
                NetTestSupport.storeSockaddrIn(c, to, Net.INADDR_LOOPBACK, port);
                check(c, c.connect(fd, to, 16), "connect");
                final Capability out = heap(c, 64, 100);
                final Capability in = heap(c, 256, 100);
                for (int round = 0; round < 5; round++)
                {
                    final byte[] message = ("ping " + round + " from " + c.getpid())
                        .getBytes(StandardCharsets.US_ASCII);
                    c.memory().storeBytes(out, 0, message, 0, message.length);
                    assertEquals(message.length, check(c, c.write(fd, out, message.length), "write"));
                    long got = 0;
                    while (got < message.length)
                    {
                        got += check(c, c.recv(fd, in.add(got), message.length - got, 0), "recv");
                    }
                    final byte[] echoed = new byte[message.length];
                    c.memory().loadBytes(in, 0, echoed, 0, echoed.length);
                    assertArrayEquals(message, echoed);
                }
                check(c, c.close(fd), "close");
                return 0;
            }));
            check(posix, child, "fork");

            final Capability peer = heap(posix, 32, 16);
            final Capability peerlen = heap(posix, 48, 4);
            posix.memory().storeInt(peerlen, 0, 16);
            final int conn = (int)check(posix, posix.accept(listener, peer, peerlen), "accept");
            assertEquals(16, posix.memory().loadInt(peerlen, 0));
            assertEquals(Net.AF_INET, posix.memory().loadShort(peer, 0));
            assertEquals(Net.INADDR_LOOPBACK, Net.ntohl(posix.memory().loadInt(peer, 4)));
            final int peerPort = Net.ntohs(posix.memory().loadShort(peer, 2));
            // getpeername agrees with what accept reported.
            posix.memory().fill(peer, 0, 16, (byte)0);
            posix.memory().storeInt(peerlen, 0, 16);
            check(posix, posix.getpeername(conn, peer, peerlen), "getpeername");
            assertEquals(peerPort, Net.ntohs(posix.memory().loadShort(peer, 2)));

            final Capability buffer = heap(posix, 1024, 4096);
            long n;
            long total = 0;
            while ((n = check(posix, posix.read(conn, buffer, 4096), "read")) > 0)
            {
                assertEquals(n, check(posix, posix.send(conn, buffer, n, 0), "send"));
                total += n;
            }
            assertTrue(total > 0);
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, Posix.WEXITSTATUS(status[0]), "child status");
            check(posix, posix.close(conn), "close");
            check(posix, posix.close(listener), "close");
            return 0;
        });
    }

    /** A µprocess server answers a plain Java client on loopback: upper-cases what it reads until end of file. */
    @Test
    void serverAnswersAPlainJavaClient() throws Exception
    {
        final CompletableFuture<Integer> port = new CompletableFuture<>();
        final int pid = system.spawn(guarded(failure, posix ->
        {
            final int listener = NetTestSupport.listenLoopback(posix, 4);
            port.complete(NetTestSupport.portOf(posix, listener));
            final InetSocketAddress[] peer = new InetSocketAddress[1];
            final int conn = (int)check(posix, posix.accept(listener, peer), "accept");
            assertEquals(NetTestSupport.LOOPBACK, peer[0].getAddress());
            final String request = NetTestSupport.recvToEnd(posix, conn);
            NetTestSupport.sendString(posix, conn, request.toUpperCase(java.util.Locale.ROOT));
            check(posix, posix.close(conn), "close");
            return 0;
        }));
        final String answer;
        try (Socket client = new Socket(NetTestSupport.LOOPBACK, port.get(1, TimeUnit.MINUTES)))
        {
            final OutputStream out = client.getOutputStream();
            out.write("hello from plain java".getBytes(StandardCharsets.UTF_8));
            client.shutdownOutput();
            final InputStream in = client.getInputStream();
            answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals("HELLO FROM PLAIN JAVA", answer);
        assertEquals(0, system.awaitExit(pid));
        if (failure.get() != null)
        {
            throw new AssertionError(failure.get());
        }
    }

    /** A µprocess client talks to a plain Java server (the server sees the client's getsockname port). */
    @Test
    void clientTalksToAPlainJavaServer() throws IOException
    {
        try (java.net.ServerSocket server = new java.net.ServerSocket(0, 4, NetTestSupport.LOOPBACK))
        {
            final CompletableFuture<Integer> clientPort = new CompletableFuture<>();
            final Thread serving = Thread.ofPlatform().start(() ->
            {
                try (Socket s = server.accept())
                {
                    clientPort.complete(s.getPort());
                    s.getOutputStream().write(s.getInputStream().readNBytes(5));
                }
                catch (final IOException e)
                {
                    clientPort.completeExceptionally(e);
                }
            });
            PosixTestSupport.runClean(system, posix ->
            {
                final int fd = NetTestSupport.connectLoopback(posix, server.getLocalPort());
                NetTestSupport.sendString(posix, fd, "12345");
                assertEquals("12345", NetTestSupport.recvString(posix, fd, 5));
                assertEquals(clientPort.get(1, TimeUnit.MINUTES), NetTestSupport.portOf(posix, fd));
                assertEquals(0, posix.recv(fd, new byte[1], 0, 1, 0), "end of stream after the server closed");
                return 0;
            });
            serving.join();
        }
        catch (final InterruptedException e)
        {
            throw new AssertionError(e);
        }
    }

    /** AF_INET6 over ::1 with {@code struct sockaddr_in6} (28 bytes) built and read back by hand. */
    @Test
    void ipv6EchoWithSockaddrIn6()
    {
        PosixTestSupport.run(system, failure, posix ->
        {
            final Capability sa = heap(posix, 0, 32);
            final Capability len = heap(posix, 32, 4);
            final int listener = (int)check(posix, posix.socket(Net.AF_INET6, Net.SOCK_STREAM, 0), "socket");
            posix.memory().fill(sa, 0, 32, (byte)0);
            posix.memory().storeShort(sa, 0, (short)Net.AF_INET6);
            posix.memory().storeByte(sa, 23, (byte)1);
            check(posix, posix.bind(listener, sa, Net.SOCKADDR_IN6_SIZE), "bind");
            check(posix, posix.listen(listener, 4), "listen");
            posix.memory().storeInt(len, 0, 32);
            check(posix, posix.getsockname(listener, sa, len), "getsockname");
            assertEquals(Net.SOCKADDR_IN6_SIZE, posix.memory().loadInt(len, 0));
            assertEquals(Net.AF_INET6, posix.memory().loadShort(sa, 0));
            final int port = Net.ntohs(posix.memory().loadShort(sa, 2));
            final byte[] ip = new byte[16];
            posix.memory().loadBytes(sa, 8, ip, 0, 16);
            assertEquals(NetTestSupport.LOOPBACK6, java.net.InetAddress.getByAddress(ip));

            final int child = posix.fork(guarded(failure, c ->
            {
                final int fd = (int)check(c, c.socket(Net.AF_INET6, Net.SOCK_STREAM, 0), "socket");
                final Capability to = heap(c, 0, 28);
                c.memory().fill(to, 0, 28, (byte)0);
                c.memory().storeShort(to, 0, (short)Net.AF_INET6);
                c.memory().storeShort(to, 2, Net.htons(port));
                c.memory().storeByte(to, 23, (byte)1);
                check(c, c.connect(fd, to, 28), "connect");
                NetTestSupport.sendString(c, fd, "six");
                assertEquals("SIX", NetTestSupport.recvString(c, fd, 3));
                return 0;
            }));
            check(posix, child, "fork");
            final int conn = (int)check(posix, posix.accept(listener, Capability.NULL, Capability.NULL), "accept");
            NetTestSupport.sendString(posix, conn, NetTestSupport.recvString(posix, conn, 3).toUpperCase());
            final int[] status = new int[1];
            assertEquals(child, posix.waitpid(child, status, 0));
            assertEquals(0, status[0]);
            return 0;
        });
    }

    /**
     * A quarter megabyte both ways through capability buffers larger than the kernel buffer, in random chunk
     * sizes: blocking send sends everything, MSG_WAITALL receives everything, and the bytes arrive intact.
     */
    @Test
    void largeTransfersInRandomChunksArriveIntact()
    {
        final long seed = System.nanoTime();
        try
        {
            PosixTestSupport.run(system, failure, posix ->
            {
                final int total = 256 << 10;
                final int listener = NetTestSupport.listenLoopback(posix, 4);
                final int port = NetTestSupport.portOf(posix, listener);
                final int child = posix.fork(guarded(failure, c ->
                {
                    // The child echoes everything back through one 200 KiB buffer.
                    final int fd = NetTestSupport.connectLoopback(c, port);
                    final Capability buffer = heap(c, 0, 200 << 10);
                    long n;
                    while ((n = check(c, c.recv(fd, buffer, 200 << 10, 0), "recv")) > 0)
                    {
                        assertEquals(n, check(c, c.send(fd, buffer, n, 0), "send"));
                    }
                    return 0;
                }));
                final int conn = (int)check(posix, posix.accept(listener, (InetSocketAddress[])null), "accept");
                final Random random = new Random(seed);
                final byte[] data = new byte[total];
                random.nextBytes(data);
                final Capability out = heap(posix, 0, total);
                final Capability in = heap(posix, total, total);
                posix.memory().storeBytes(out, 0, data, 0, total);
                // Sender and receiver interleave in chunks small enough that neither side's buffers fill up.
                int sent = 0;
                int received = 0;
                while (received < total)
                {
                    if (sent < total)
                    {
                        final int chunk = Math.min(total - sent, 1 + random.nextInt(96 << 10));
                        assertEquals(chunk, check(posix, posix.send(conn, out.add(sent), chunk, 0), "send"));
                        sent += chunk;
                    }
                    final int want = sent - received;
                    assertEquals(want, check(posix, posix.recv(conn, in.add(received), want, Net.MSG_WAITALL),
                        "recv"));
                    received += want;
                }
                check(posix, posix.shutdown(conn, Net.SHUT_WR), "shutdown");
                assertEquals(0, posix.recv(conn, in, 1, 0), "end of stream");
                final byte[] back = new byte[total];
                posix.memory().loadBytes(in, 0, back, 0, total);
                assertTrue(Arrays.equals(data, back), "bytes differ");
                final int[] status = new int[1];
                assertEquals(child, posix.waitpid(child, status, 0));
                assertEquals(0, status[0]);
                return 0;
            });
        }
        catch (final AssertionError e)
        {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }
}
