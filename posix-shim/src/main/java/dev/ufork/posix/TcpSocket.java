package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TCP socket (AF_INET or AF_INET6, SOCK_STREAM) as an open file description, shared by {@code dup} and
 * {@code fork} like any other: several µprocesses may accept on one listening socket, or read and write one
 * connection.
 * <p>
 * <b>Underneath</b> is a Java {@link SocketChannel} (unconnected, connecting, connected) or, once listening, a
 * {@link ServerSocketChannel}, always in non-blocking mode, so that no thread ever blocks inside a channel and an
 * interrupt (which is how a signal reaches a µprocess) never closes one. A call that must wait waits in the calling
 * µprocess's {@link SocketSelector} and tries again; a signal that runs a handler ends the wait with EINTR. Since
 * Java binds a server channel and listens in one step, {@code bind} binds a client channel, and {@code listen}
 * replaces it with a server channel bound to the same address.
 * <p>
 * <b>States</b> follow Linux: unconnected (perhaps bound), listening, connecting (a non-blocking or interrupted
 * {@code connect} in progress), connected, and failed (an asynchronous connect failed; the next {@code connect}
 * reports it and the socket may connect again). A connect that completes while nobody waits in {@code connect}
 * is reported by the next {@code connect} as success, then EISCONN, as Linux does.
 * <p>
 * <b>Received bytes</b> that {@code MSG_PEEK} (or a poll for POLLRDHUP) read from the channel wait in a small
 * buffer here and are delivered first.
 * <p>
 * Thread safety: safe for concurrent use by every µprocess holding it. State changes happen under one lock, reads
 * of the channel under another (so peeked bytes stay in order); neither is held while waiting.
 */
final class TcpSocket extends OpenFile
{
    private static final int UNCONNECTED = 0;
    private static final int LISTENING = 1;
    private static final int CONNECTING = 2;
    private static final int CONNECTED = 3;
    private static final int FAILED = 4;
    private static final int CLOSED = 5;

    /** The most bytes a peek holds back. */
    private static final int PEEK_LIMIT = Posix.KERNEL_BUFFER;
    /** The first peek buffer's size: a poll for POLLRDHUP reads this much ahead. */
    private static final int PEEK_INITIAL = 1024;

    private final int family;
    private final ProtocolFamily protocol;
    private final ReentrantLock lock = new ReentrantLock();
    private final ReentrantLock receiving = new ReentrantLock();
    private final CopyOnWriteArrayList<SocketSelector> selectors = new CopyOnWriteArrayList<>();
    private final AtomicReference<Errno> pendingError = new AtomicReference<>();
    private volatile int state;
    private volatile SocketChannel channel;
    private volatile ServerSocketChannel server;
    private boolean bound;
    private boolean connectReported;
    private volatile boolean inputShut;
    private volatile boolean outputShut;
    private volatile boolean endOfStream;
    private volatile boolean reset;
    private ByteBuffer peeked;
    private volatile int peekedBytes;
    // The options as set; a listening socket hands them to the connections it accepts, as Linux does.
    private boolean reuseAddress;
    private boolean reusePort;
    private boolean keepAlive;
    private boolean noDelay;
    private int receiveBuffer = -1;
    private int sendBuffer = -1;

    private TcpSocket(final int family, final int flags)
    {
        super(Fcntl.O_RDWR | (flags & Fcntl.O_NONBLOCK));
        this.family = family;
        this.protocol = family == Net.AF_INET ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
    }

    /**
     * {@code socket}: a new unconnected socket.
     *
     * @param family {@link Net#AF_INET} or {@link Net#AF_INET6}.
     * @param flags  O_NONBLOCK or 0.
     * @throws ErrnoException ENFILE, ENOBUFS and the like if the host cannot make one.
     */
    static TcpSocket open(final int family, final int flags)
    {
        final TcpSocket socket = new TcpSocket(family, flags);
        socket.channel = socket.newChannel();
        return socket;
    }

    /** @return the socket's address family. */
    int family()
    {
        return family;
    }

    // ------------------------------------------------------------------------------------------------------------
    // bind, listen, accept, connect, shutdown

    /**
     * {@code bind}.
     *
     * @throws ErrnoException EINVAL if already bound (or connected, or listening); EADDRINUSE, EADDRNOTAVAIL,
     *                        EACCES from the host.
     */
    void bind(final InetSocketAddress local)
    {
        lock.lock();
        try
        {
            if (bound || (state != UNCONNECTED && state != FAILED))
            {
                throw new ErrnoException(Errno.EINVAL, this + " is already bound");
            }
            ensureChannel().bind(local);
            bound = true;
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "bind " + local);
        }
        catch (final UnsupportedAddressTypeException e)
        {
            throw new ErrnoException(Errno.EAFNOSUPPORT, "bind " + local);
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * {@code listen}: from now on the socket accepts connections, on its bound address or, if unbound, on an
     * ephemeral port of the wildcard address. A second {@code listen} changes nothing (Linux would resize the
     * backlog).
     *
     * @throws ErrnoException EINVAL if connected or connecting; EADDRINUSE if another socket took the address in the
     *                        moment between the client channel's close and the server channel's bind (the socket is
     *                        then unbound).
     */
    void listen(final int backlog)
    {
        lock.lock();
        try
        {
            if (state == LISTENING)
            {
                return;
            }
            if (state != UNCONNECTED)
            {
                throw new ErrnoException(Errno.EINVAL, this + " is connected or connecting");
            }
            final SocketChannel old = channel;
            final InetSocketAddress local = bound && old != null ? (InetSocketAddress)old.getLocalAddress()
                : SocketAddresses.wildcard(family, 0);
            final ServerSocketChannel listener = ServerSocketChannel.open(protocol);
            try
            {
                listener.configureBlocking(false);
                // Java sets SO_REUSEADDR on server channels by default; Linux does not.
                listener.setOption(StandardSocketOptions.SO_REUSEADDR, reuseAddress);
                if (reusePort)
                {
                    listener.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                }
                if (receiveBuffer >= 0)
                {
                    listener.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
                }
                if (old != null)
                {
                    // Never registered with a selector (an unconnected socket's readiness is known without one),
                    // so this closes the host socket now and frees the address for the listener.
                    channel = null;
                    bound = false;
                    old.close();
                }
                listener.bind(local, Math.max(1, backlog));
            }
            catch (final IOException | RuntimeException e)
            {
                closeQuietly(listener);
                throw e;
            }
            server = listener;
            bound = true;
            state = LISTENING;
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "listen");
        }
        finally
        {
            lock.unlock();
        }
        wakeSelectors();
    }

    /**
     * {@code accept}: the next connection, waiting for one unless non-blocking. When several µprocesses wait on
     * one listening socket, all wake for a connection and one gets it; the others wait again.
     *
     * @param flags SOCK_NONBLOCK for the new socket, or 0.
     * @return the new connected socket.
     * @throws ErrnoException EINVAL if not listening; EAGAIN; EINTR; ECONNABORTED, ENFILE, ENOBUFS from the host.
     */
    TcpSocket accept(final Posix caller, final int flags)
    {
        while (true)
        {
            final ServerSocketChannel listener = server;
            if (state != LISTENING || listener == null)
            {
                throw new ErrnoException(Errno.EINVAL, this + " is not listening");
            }
            final SocketChannel accepted;
            try
            {
                accepted = listener.accept();
            }
            catch (final IOException e)
            {
                throw NetErrors.of(e, "accept");
            }
            if (accepted != null)
            {
                return adopt(accepted, flags);
            }
            if (nonBlocking())
            {
                throw new ErrnoException(Errno.EAGAIN, "no connection waiting on " + this);
            }
            await(caller, listener, SelectionKey.OP_ACCEPT);
        }
    }

    private TcpSocket adopt(final SocketChannel accepted, final int flags)
    {
        final TcpSocket socket = new TcpSocket(family, flags);
        lock.lock();
        try
        {
            accepted.configureBlocking(false);
            socket.reuseAddress = reuseAddress;
            socket.reusePort = reusePort;
            socket.receiveBuffer = receiveBuffer;
            // The host copies a listener's options to its connections, but Java cannot set these on a listener.
            if (noDelay)
            {
                accepted.setOption(StandardSocketOptions.TCP_NODELAY, true);
                socket.noDelay = true;
            }
            if (keepAlive)
            {
                accepted.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                socket.keepAlive = true;
            }
            if (sendBuffer >= 0)
            {
                accepted.setOption(StandardSocketOptions.SO_SNDBUF, sendBuffer);
                socket.sendBuffer = sendBuffer;
            }
        }
        catch (final IOException e)
        {
            closeQuietly(accepted);
            throw NetErrors.of(e, "accept");
        }
        finally
        {
            lock.unlock();
        }
        socket.channel = accepted;
        socket.bound = true;
        socket.connectReported = true;
        socket.state = CONNECTED;
        return socket;
    }

    /**
     * {@code connect}: waits for the connection unless non-blocking. A wait interrupted by a signal fails with EINTR
     * and leaves the connection in progress, as on Linux.
     *
     * @param remote the peer; the wildcard address means this host, as on Linux.
     * @throws ErrnoException EISCONN, EALREADY, EINPROGRESS, ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EADDRNOTAVAIL,
     *                        EAFNOSUPPORT, EINTR.
     */
    void connect(final Posix caller, final InetSocketAddress remote)
    {
        lock.lock();
        try
        {
            switch (state)
            {
                case UNCONNECTED ->
                {
                    final SocketChannel ch = ensureChannel();
                    final InetSocketAddress target = remote.getAddress().isAnyLocalAddress()
                        ? new InetSocketAddress(loopback(remote.getAddress()), remote.getPort()) : remote;
                    final boolean done;
                    try
                    {
                        done = ch.connect(target);
                    }
                    catch (final IOException e)
                    {
                        // Java closes a channel whose connect failed; the socket may try again with a new one.
                        channel = null;
                        bound = false;
                        throw NetErrors.of(e, "connect " + remote);
                    }
                    catch (final UnsupportedAddressTypeException e)
                    {
                        throw new ErrnoException(Errno.EAFNOSUPPORT, "connect " + remote);
                    }
                    bound = true;
                    if (done)
                    {
                        state = CONNECTED;
                        connectReported = true;
                        return;
                    }
                    state = CONNECTING;
                    connectReported = false;
                    if (nonBlocking())
                    {
                        throw new ErrnoException(Errno.EINPROGRESS, "connecting to " + remote);
                    }
                }
                case CONNECTING ->
                {
                    if (finishConnect())
                    {
                        return;
                    }
                    if (nonBlocking())
                    {
                        throw new ErrnoException(Errno.EALREADY, "already connecting: " + this);
                    }
                }
                case CONNECTED ->
                {
                    if (!connectReported)
                    {
                        connectReported = true;
                        return;
                    }
                    throw new ErrnoException(Errno.EISCONN, this + " is connected");
                }
                case FAILED ->
                {
                    reportFailure();
                }
                default -> throw new ErrnoException(Errno.EISCONN, this + " is listening");
            }
        }
        finally
        {
            lock.unlock();
        }
        while (true)
        {
            final SocketChannel ch = channel;
            if (ch != null && state == CONNECTING)
            {
                await(caller, ch, SelectionKey.OP_CONNECT);
            }
            lock.lock();
            try
            {
                if (state == CONNECTING ? finishConnect() : state != UNCONNECTED)
                {
                    if (state == CONNECTED)
                    {
                        connectReported = true;
                        return;
                    }
                    // Failed: reported here, and the socket is unconnected again.
                    reportFailure();
                }
                else if (state == UNCONNECTED)
                {
                    // Another µprocess sharing the socket took the attempt's failure first.
                    throw new ErrnoException(Errno.ECONNABORTED, "connection attempt of " + this + " ended");
                }
            }
            finally
            {
                lock.unlock();
            }
        }
    }

    /**
     * Under the lock, in state CONNECTING: completes the connection if the host has. Not blocking.
     *
     * @return true if the attempt ended: connected (state CONNECTED, reported by this caller) or failed (state
     *         FAILED, error pending); false if still in progress.
     */
    private boolean finishConnect()
    {
        if (!completeConnect())
        {
            return false;
        }
        if (state == CONNECTED)
        {
            connectReported = true;
            return true;
        }
        reportFailure();
        return true;
    }

    /** Under the lock, in state FAILED (or after it): throws the pending error and makes the socket unconnected. */
    private void reportFailure()
    {
        if (state == FAILED)
        {
            state = UNCONNECTED;
        }
        final Errno error = pendingError.getAndSet(null);
        throw new ErrnoException(error != null ? error : Errno.ECONNABORTED, "connect of " + this + " failed");
    }

    /**
     * Learns whether a connection in progress has completed, without blocking.
     *
     * @return whether the socket is no longer connecting.
     */
    private boolean completeConnect()
    {
        if (state != CONNECTING)
        {
            return true;
        }
        lock.lock();
        try
        {
            if (state != CONNECTING)
            {
                return true;
            }
            final SocketChannel ch = channel;
            try
            {
                if (!ch.finishConnect())
                {
                    return false;
                }
                state = CONNECTED;
            }
            catch (final IOException e)
            {
                pendingError.set(NetErrors.errnoOf(e));
                closeQuietly(ch);
                channel = null;
                bound = false;
                state = FAILED;
            }
        }
        finally
        {
            lock.unlock();
        }
        wakeSelectors();
        return true;
    }

    /**
     * {@code shutdown}.
     *
     * @param how {@link Net#SHUT_RD}, {@link Net#SHUT_WR} or {@link Net#SHUT_RDWR}.
     * @throws ErrnoException EINVAL for another {@code how}; ENOTCONN if not connected; EOPNOTSUPP for SHUT_RD on
     *                        a listening socket (Linux stops listening).
     */
    void shutdown(final int how)
    {
        if (how < Net.SHUT_RD || how > Net.SHUT_RDWR)
        {
            throw new ErrnoException(Errno.EINVAL, "shutdown how " + how);
        }
        completeConnect();
        lock.lock();
        try
        {
            if (state == LISTENING)
            {
                if (how == Net.SHUT_WR)
                {
                    return;
                }
                throw new ErrnoException(Errno.EOPNOTSUPP, "shutdown of the reading half of a listening socket");
            }
            if (state != CONNECTED)
            {
                throw new ErrnoException(Errno.ENOTCONN, this + " is not connected");
            }
            final SocketChannel ch = channel;
            if (how != Net.SHUT_WR && !inputShut)
            {
                ch.shutdownInput();
                inputShut = true;
            }
            if (how != Net.SHUT_RD && !outputShut)
            {
                ch.shutdownOutput();
                outputShut = true;
            }
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "shutdown");
        }
        finally
        {
            lock.unlock();
        }
        wakeSelectors();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Transfers

    @Override
    long read(final Posix caller, final ByteBuffer dst)
    {
        return recv(caller, dst, 0);
    }

    @Override
    long write(final Posix caller, final ByteBuffer src)
    {
        return send(caller, src, 0);
    }

    /**
     * {@code recv}: what has arrived, up to {@code dst.remaining()} bytes; waits for something unless non-blocking
     * (or {@link Net#MSG_DONTWAIT}); with {@link Net#MSG_WAITALL} waits for all of it.
     *
     * @return bytes received; 0 at end of stream (after the peer's {@code shutdown(SHUT_WR)} or close, after our
     *         {@code SHUT_RD}, and after a reset has been reported once).
     * @throws ErrnoException ENOTCONN, EAGAIN, EINTR, ECONNRESET, a failed connect's error.
     */
    long recv(final Posix caller, final ByteBuffer dst, final int flags)
    {
        final boolean peek = (flags & Net.MSG_PEEK) != 0;
        final boolean dontWait = (flags & Net.MSG_DONTWAIT) != 0 || nonBlocking();
        final boolean waitAll = (flags & Net.MSG_WAITALL) != 0 && !peek;
        int done = 0;
        while (true)
        {
            if (!awaitConnected(caller, dontWait, false))
            {
                continue;
            }
            final Errno pending = pendingError.getAndSet(null);
            if (pending != null)
            {
                if (done > 0)
                {
                    pendingError.compareAndSet(null, pending);
                    return done;
                }
                throw new ErrnoException(pending, "recv on " + this);
            }
            if (!dst.hasRemaining())
            {
                return done;
            }
            final int n = receiveNow(dst, peek);
            if (n < 0)
            {
                return done;
            }
            done += n;
            if (n > 0 && (!waitAll || !dst.hasRemaining()))
            {
                return done;
            }
            if (n == 0)
            {
                if (dontWait)
                {
                    if (done > 0)
                    {
                        return done;
                    }
                    throw new ErrnoException(Errno.EAGAIN, "nothing to receive on " + this);
                }
                try
                {
                    await(caller, channel, SelectionKey.OP_READ);
                }
                catch (final ErrnoException e)
                {
                    if (done > 0 && e.errno() == Errno.EINTR)
                    {
                        return done;
                    }
                    throw e;
                }
            }
        }
    }

    /**
     * {@code send}: all of {@code src}, waiting for room unless non-blocking (or {@link Net#MSG_DONTWAIT}), when it
     * sends what fits. EPIPE comes with SIGPIPE unless {@link Net#MSG_NOSIGNAL}.
     *
     * @return bytes sent (fewer than asked only if non-blocking, or if a signal or an error came after some).
     * @throws ErrnoException EPIPE (not connected, shut down for writing, or the peer is gone), ECONNRESET, EAGAIN,
     *                        EINTR, a failed connect's error.
     */
    long send(final Posix caller, final ByteBuffer src, final int flags)
    {
        final boolean dontWait = (flags & Net.MSG_DONTWAIT) != 0 || nonBlocking();
        final boolean signal = (flags & Net.MSG_NOSIGNAL) == 0;
        int done = 0;
        while (true)
        {
            if (!awaitConnected(caller, dontWait, true))
            {
                continue;
            }
            if (state != CONNECTED)
            {
                throw broken(caller, signal, this + " is not connected");
            }
            final Errno pending = pendingError.getAndSet(null);
            if (pending != null)
            {
                if (done > 0)
                {
                    pendingError.compareAndSet(null, pending);
                    return done;
                }
                if (pending == Errno.EPIPE)
                {
                    throw broken(caller, signal, "send on " + this);
                }
                throw new ErrnoException(pending, "send on " + this);
            }
            if (outputShut || reset)
            {
                if (done > 0)
                {
                    return done;
                }
                throw broken(caller, signal, this + " cannot send any more");
            }
            if (!src.hasRemaining())
            {
                return done;
            }
            final int n;
            try
            {
                n = channel.write(src);
            }
            catch (final IOException e)
            {
                final Errno errno = NetErrors.errnoOf(e);
                if (errno == Errno.ECONNRESET)
                {
                    reset = true;
                }
                if (done > 0)
                {
                    pendingError.compareAndSet(null, errno);
                    return done;
                }
                if (errno == Errno.EPIPE)
                {
                    throw broken(caller, signal, "send on " + this + ": " + e.getMessage());
                }
                throw NetErrors.of(e, "send on " + this);
            }
            done += n;
            if (!src.hasRemaining())
            {
                return done;
            }
            if (n == 0)
            {
                if (dontWait)
                {
                    if (done > 0)
                    {
                        return done;
                    }
                    throw new ErrnoException(Errno.EAGAIN, "no room to send on " + this);
                }
                try
                {
                    await(caller, channel, SelectionKey.OP_WRITE);
                }
                catch (final ErrnoException e)
                {
                    if (done > 0 && e.errno() == Errno.EINTR)
                    {
                        return done;
                    }
                    throw e;
                }
            }
        }
    }

    private static ErrnoException broken(final Posix caller, final boolean signal, final String detail)
    {
        if (signal)
        {
            caller.brokenPipe();
        }
        return new ErrnoException(Errno.EPIPE, detail);
    }

    /**
     * The state check at the top of a transfer: fails if the socket cannot transfer; waits (once) for a connection
     * in progress.
     *
     * @param sending whether for a send (an unconnected socket then gives EPIPE, as on Linux, else ENOTCONN).
     * @return whether the socket is connected (or, for a send, cannot be: the caller reports EPIPE); false if it
     *         waited and the caller should look again.
     */
    private boolean awaitConnected(final Posix caller, final boolean dontWait, final boolean sending)
    {
        switch (state)
        {
            case CONNECTED ->
            {
                return true;
            }
            case CONNECTING ->
            {
                if (completeConnect())
                {
                    return false;
                }
                if (dontWait)
                {
                    throw new ErrnoException(Errno.EAGAIN, this + " is still connecting");
                }
                final SocketChannel ch = channel;
                if (ch != null)
                {
                    await(caller, ch, SelectionKey.OP_CONNECT);
                }
                return false;
            }
            case FAILED ->
            {
                final Errno error = pendingError.getAndSet(null);
                if (error != null)
                {
                    throw new ErrnoException(error, "connect of " + this + " failed");
                }
            }
            default ->
            {
                // unconnected, listening
            }
        }
        if (sending)
        {
            return true;
        }
        throw new ErrnoException(Errno.ENOTCONN, this + " is not connected");
    }

    /**
     * Takes what can be had without waiting: held-back bytes first, then the channel's.
     *
     * @return bytes; 0 if nothing has arrived; −1 at end of stream.
     */
    private int receiveNow(final ByteBuffer dst, final boolean peek)
    {
        receiving.lock();
        try
        {
            if (peek)
            {
                return peekNow(dst);
            }
            int taken = 0;
            if (peekedBytes > 0)
            {
                taken = Math.min(peekedBytes, dst.remaining());
                dst.put(dst.position(), peeked, peeked.position(), taken);
                dst.position(dst.position() + taken);
                peeked.position(peeked.position() + taken);
                peekedBytes = peeked.remaining();
                if (!dst.hasRemaining())
                {
                    return taken;
                }
            }
            if (reset || endOfStream || inputShut)
            {
                return taken > 0 ? taken : -1;
            }
            final int n;
            try
            {
                n = channel.read(dst);
            }
            catch (final IOException e)
            {
                final Errno errno = received(e);
                if (taken > 0)
                {
                    pendingError.compareAndSet(null, errno);
                    return taken;
                }
                throw NetErrors.of(e, "recv on " + this);
            }
            if (n < 0)
            {
                endOfStream = true;
                return taken > 0 ? taken : -1;
            }
            return taken + n;
        }
        finally
        {
            receiving.unlock();
        }
    }

    /** Under {@code receiving}: copies what has arrived into {@code dst}, holding it back for the next reads. */
    private int peekNow(final ByteBuffer dst)
    {
        final int wanted = Math.min(dst.remaining(), PEEK_LIMIT);
        if (peekedBytes < wanted && !(reset || endOfStream || inputShut))
        {
            try
            {
                readAhead(wanted);
            }
            catch (final IOException e)
            {
                final Errno errno = received(e);
                if (peekedBytes == 0)
                {
                    throw NetErrors.of(e, "recv on " + this);
                }
                pendingError.compareAndSet(null, errno);
            }
        }
        if (peekedBytes == 0)
        {
            return reset || endOfStream || inputShut ? -1 : 0;
        }
        final int n = Math.min(dst.remaining(), peekedBytes);
        dst.put(dst.position(), peeked, peeked.position(), n);
        dst.position(dst.position() + n);
        return n;
    }

    /**
     * Under {@code receiving}: reads from the channel into the held-back bytes until {@code wanted} are held or
     * nothing more has arrived. Wakes the other µprocesses waiting on the socket: the host no longer shows them
     * these bytes.
     */
    private void readAhead(final int wanted) throws IOException
    {
        if (peeked == null)
        {
            peeked = ByteBuffer.allocate(Math.max(wanted, PEEK_INITIAL)).flip();
        }
        else if (peeked.capacity() < wanted)
        {
            final ByteBuffer larger = ByteBuffer.allocate(Math.min(PEEK_LIMIT, Math.max(wanted,
                2 * peeked.capacity())));
            larger.put(peeked).flip();
            peeked = larger;
        }
        peeked.compact();
        final int n;
        try
        {
            n = channel.read(peeked);
        }
        finally
        {
            peeked.flip();
            peekedBytes = peeked.remaining();
        }
        if (n < 0)
        {
            endOfStream = true;
        }
        if (n != 0)
        {
            wakeSelectors();
        }
    }

    /** Records what a failed channel read means for the socket. @return its errno. */
    private Errno received(final IOException e)
    {
        final Errno errno = NetErrors.errnoOf(e);
        if (errno == Errno.ECONNRESET)
        {
            // Reported once; after that the connection reads as ended, as on Linux.
            reset = true;
        }
        return errno;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Addresses and options

    /** @return the local address (null if unbound), as getsockname reports it. */
    InetSocketAddress localAddress()
    {
        try
        {
            final ServerSocketChannel listener = server;
            if (state == LISTENING && listener != null)
            {
                return (InetSocketAddress)listener.getLocalAddress();
            }
            final SocketChannel ch = channel;
            return ch == null ? null : (InetSocketAddress)ch.getLocalAddress();
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "getsockname");
        }
    }

    /**
     * @return the address a just-accepted connection came from (as Java recorded it at accept, so it never fails;
     *         null if unknown).
     */
    InetSocketAddress acceptedFrom()
    {
        try
        {
            final SocketChannel ch = channel;
            return ch == null ? null : (InetSocketAddress)ch.getRemoteAddress();
        }
        catch (final IOException e)
        {
            return null;
        }
    }

    /**
     * @return the peer's address, as getpeername reports it.
     * @throws ErrnoException ENOTCONN if not connected (or reset).
     */
    InetSocketAddress remoteAddress()
    {
        completeConnect();
        final SocketChannel ch = channel;
        if (state != CONNECTED || reset || ch == null)
        {
            throw new ErrnoException(Errno.ENOTCONN, this + " is not connected");
        }
        try
        {
            return (InetSocketAddress)ch.getRemoteAddress();
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "getpeername");
        }
    }

    /**
     * {@code setsockopt} of an int option.
     *
     * @throws ErrnoException ENOPROTOOPT for an unknown level or option, or a read-only one; EINVAL for a value the
     *                        host refuses.
     */
    void setOption(final int level, final int name, final int value)
    {
        final boolean on = value != 0;
        lock.lock();
        try
        {
            if (level == Net.SOL_SOCKET)
            {
                switch (name)
                {
                    case Net.SO_REUSEADDR ->
                    {
                        apply(StandardSocketOptions.SO_REUSEADDR, on);
                        reuseAddress = on;
                    }
                    case Net.SO_REUSEPORT ->
                    {
                        apply(StandardSocketOptions.SO_REUSEPORT, on);
                        reusePort = on;
                    }
                    case Net.SO_KEEPALIVE ->
                    {
                        apply(StandardSocketOptions.SO_KEEPALIVE, on);
                        keepAlive = on;
                    }
                    case Net.SO_RCVBUF ->
                    {
                        final int size = bufferSize(value);
                        apply(StandardSocketOptions.SO_RCVBUF, size);
                        receiveBuffer = size;
                    }
                    case Net.SO_SNDBUF ->
                    {
                        final int size = bufferSize(value);
                        apply(StandardSocketOptions.SO_SNDBUF, size);
                        sendBuffer = size;
                    }
                    default -> throw new ErrnoException(Errno.ENOPROTOOPT, "socket option " + name);
                }
            }
            else if (level == Net.IPPROTO_TCP && name == Net.TCP_NODELAY)
            {
                apply(StandardSocketOptions.TCP_NODELAY, on);
                noDelay = on;
            }
            else
            {
                throw new ErrnoException(Errno.ENOPROTOOPT, "option " + name + " at level " + level);
            }
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "setsockopt");
        }
        catch (final IllegalArgumentException e)
        {
            throw new ErrnoException(Errno.EINVAL, "setsockopt " + name + " = " + value + ": " + e.getMessage());
        }
        finally
        {
            lock.unlock();
        }
    }

    /** Linux takes a negative buffer size as a huge one and clamps it to the host's maximum. */
    private static int bufferSize(final int value)
    {
        return value < 0 ? Integer.MAX_VALUE / 2 : value;
    }

    /** Under the lock: sets an option on the current channel if it has one that supports it. */
    private <T> void apply(final SocketOption<T> option, final T value) throws IOException
    {
        final NetworkChannel ch = state == LISTENING ? server : channel;
        if (ch != null && ch.supportedOptions().contains(option))
        {
            ch.setOption(option, value);
        }
    }

    /**
     * {@code getsockopt} of an int option.
     *
     * @return its value; SO_ERROR's is the pending error, which reading clears.
     * @throws ErrnoException ENOPROTOOPT for an unknown level or option.
     */
    int option(final int level, final int name)
    {
        if (level == Net.SOL_SOCKET && name == Net.SO_ERROR)
        {
            completeConnect();
            final Errno error = pendingError.getAndSet(null);
            return error == null ? 0 : error.code();
        }
        if (level == Net.SOL_SOCKET && name == Net.SO_TYPE)
        {
            return Net.SOCK_STREAM;
        }
        lock.lock();
        try
        {
            if (level == Net.SOL_SOCKET)
            {
                return switch (name)
                {
                    case Net.SO_REUSEADDR -> current(StandardSocketOptions.SO_REUSEADDR, reuseAddress) ? 1 : 0;
                    case Net.SO_REUSEPORT -> current(StandardSocketOptions.SO_REUSEPORT, reusePort) ? 1 : 0;
                    case Net.SO_KEEPALIVE -> current(StandardSocketOptions.SO_KEEPALIVE, keepAlive) ? 1 : 0;
                    // Linux reports double the size set (the rest is its bookkeeping); Java halves what the host
                    // reports to hide that, so it is doubled back here.
                    case Net.SO_RCVBUF -> 2 * current(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
                    case Net.SO_SNDBUF -> 2 * current(StandardSocketOptions.SO_SNDBUF, sendBuffer);
                    default -> throw new ErrnoException(Errno.ENOPROTOOPT, "socket option " + name);
                };
            }
            if (level == Net.IPPROTO_TCP && name == Net.TCP_NODELAY)
            {
                return current(StandardSocketOptions.TCP_NODELAY, noDelay) ? 1 : 0;
            }
            throw new ErrnoException(Errno.ENOPROTOOPT, "option " + name + " at level " + level);
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "getsockopt");
        }
        finally
        {
            lock.unlock();
        }
    }

    /**
     * Under the lock: an option's value from the channel if it has one that knows it, else as set. A buffer size
     * never set and not known to the channel comes from a scratch channel (the host's default).
     */
    private <T> T current(final SocketOption<T> option, final T set) throws IOException
    {
        final NetworkChannel ch = state == LISTENING ? server : channel;
        if (ch != null && ch.supportedOptions().contains(option))
        {
            return ch.getOption(option);
        }
        if (set instanceof Integer size && size < 0)
        {
            try (SocketChannel scratch = SocketChannel.open(protocol))
            {
                return scratch.getOption(option);
            }
        }
        return set;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Readiness

    /** @return the channel a poll waits on in the current state, or null when readiness needs no host wait. */
    SelectableChannel selectable()
    {
        return switch (state)
        {
            case LISTENING -> server;
            case CONNECTING, CONNECTED -> channel;
            default -> null;
        };
    }

    /**
     * @param events the poll events wanted.
     * @return the selector operations to wait for them in the current state (0 if none is needed: either the
     *         answer is already known here, or nothing can come).
     */
    int interestFor(final int events)
    {
        switch (state)
        {
            case LISTENING ->
            {
                return (events & Fcntl.POLLIN) != 0 ? SelectionKey.OP_ACCEPT : 0;
            }
            case CONNECTING ->
            {
                // Completion shows as POLLOUT, failure as POLLERR and POLLHUP, which are always wanted.
                return SelectionKey.OP_CONNECT;
            }
            case CONNECTED ->
            {
                if (reset || pendingError.get() != null)
                {
                    return 0;
                }
                int ops = 0;
                if ((events & (Fcntl.POLLIN | Net.POLLRDHUP)) != 0
                    && !(peekedBytes > 0 || endOfStream || inputShut))
                {
                    ops |= SelectionKey.OP_READ;
                }
                if ((events & Fcntl.POLLOUT) != 0 && !outputShut)
                {
                    ops |= SelectionKey.OP_WRITE;
                }
                return ops;
            }
            default ->
            {
                return 0;
            }
        }
    }

    /**
     * The poll events ready now, given what the selector found.
     *
     * @param events the poll events wanted.
     * @param ready  the selector operations found ready this round (0 if not waited on).
     * @return ready events among {@code events}, POLLERR and POLLHUP.
     */
    int revents(final int events, final int ready)
    {
        int r;
        switch (state)
        {
            case UNCONNECTED -> r = Fcntl.POLLOUT | Fcntl.POLLHUP;
            case LISTENING -> r = (ready & SelectionKey.OP_ACCEPT) != 0 ? Fcntl.POLLIN : 0;
            case CONNECTING ->
            {
                if ((ready & SelectionKey.OP_CONNECT) == 0 || !completeConnect())
                {
                    r = 0;
                }
                else if (state == CONNECTED)
                {
                    // A new connection has an empty send buffer.
                    r = connectedEvents(events, SelectionKey.OP_WRITE);
                }
                else
                {
                    r = failedEvents();
                }
            }
            case CONNECTED -> r = connectedEvents(events, ready);
            case FAILED -> r = failedEvents();
            default -> r = Fcntl.POLLNVAL;
        }
        return r & (events | Fcntl.POLLERR | Fcntl.POLLHUP | Fcntl.POLLNVAL);
    }

    private int failedEvents()
    {
        return Fcntl.POLLIN | Fcntl.POLLOUT | Fcntl.POLLHUP | Net.POLLRDHUP
            | (pendingError.get() != null ? Fcntl.POLLERR : 0);
    }

    private int connectedEvents(final int events, final int ready)
    {
        if ((ready & SelectionKey.OP_READ) != 0 && (events & Net.POLLRDHUP) != 0
            && !(peekedBytes > 0 || endOfStream || inputShut || reset))
        {
            probe();
        }
        int r = pendingError.get() != null ? Fcntl.POLLERR : 0;
        if (reset)
        {
            return r | Fcntl.POLLIN | Fcntl.POLLOUT | Fcntl.POLLHUP | Net.POLLRDHUP;
        }
        if (peekedBytes > 0 || (ready & SelectionKey.OP_READ) != 0)
        {
            r |= Fcntl.POLLIN;
        }
        final boolean readingEnded = endOfStream || inputShut;
        if (readingEnded)
        {
            r |= Fcntl.POLLIN | Net.POLLRDHUP;
        }
        if (outputShut || (ready & SelectionKey.OP_WRITE) != 0)
        {
            r |= Fcntl.POLLOUT;
        }
        if (outputShut && readingEnded)
        {
            r |= Fcntl.POLLHUP;
        }
        return r;
    }

    /** Reads ahead so that a poll can tell end of stream (POLLRDHUP) from data. */
    private void probe()
    {
        receiving.lock();
        try
        {
            if (peekedBytes == 0 && !(endOfStream || inputShut || reset))
            {
                readAhead(1);
            }
        }
        catch (final IOException e)
        {
            pendingError.compareAndSet(null, received(e));
        }
        finally
        {
            receiving.unlock();
        }
    }

    @Override
    int poll(final Posix caller, final int events)
    {
        final SelectableChannel ch = selectable();
        final int ops = ch == null ? 0 : interestFor(events);
        int ready = 0;
        if (ops != 0)
        {
            final SocketSelector selector = caller.socketSelector();
            try
            {
                final SocketSelector.Registration r = selector.register(this, ch);
                selector.beginRound();
                selector.arm(r, ops);
                selector.select(SocketSelector.NOW);
                ready = selector.ready(r);
            }
            catch (final ErrnoException e)
            {
                // The socket changed channels meanwhile: its state says what it is now.
            }
        }
        return revents(events, ready);
    }

    /**
     * Waits (one round) in the caller's selector for {@code ops} on {@code ch}; the caller then tries again.
     *
     * @throws ErrnoException EINTR if a signal ran a handler.
     */
    private void await(final Posix caller, final SelectableChannel ch, final int ops)
    {
        final SocketSelector selector = caller.socketSelector();
        try
        {
            final SocketSelector.Registration r = selector.register(this, ch);
            selector.beginRound();
            selector.arm(r, ops);
            selector.select(Long.MAX_VALUE);
        }
        catch (final ErrnoException e)
        {
            if (e.errno() != Errno.EBADF)
            {
                throw e;
            }
            // The socket changed channels meanwhile: the caller looks at its state again.
        }
        caller.interruptionPoint();
    }

    /** A µprocess registered this socket with its selector: it is woken when the socket's state changes here. */
    void addSelector(final SocketSelector selector)
    {
        selectors.removeIf(SocketSelector::closed);
        selectors.addIfAbsent(selector);
    }

    /** Wakes every µprocess that may wait on this socket: its readiness changed in a way the host cannot show. */
    private void wakeSelectors()
    {
        for (final SocketSelector selector : selectors)
        {
            selector.wake();
        }
        wakeAll();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Life cycle

    @Override
    void closeLast()
    {
        lock.lock();
        try
        {
            state = CLOSED;
            closeQuietly(channel);
            closeQuietly(server);
            channel = null;
            server = null;
        }
        finally
        {
            lock.unlock();
        }
        // A channel registered with selectors really closes only once each has dropped its key: now for the
        // closing µprocess's own, at their next wait for the others, which this wakes.
        for (final SocketSelector selector : selectors)
        {
            if (selector.ownedByCurrentThread())
            {
                selector.flush();
            }
            else
            {
                selector.wake();
            }
        }
        selectors.clear();
    }

    /** Under the lock: the client channel, opened anew after a failed connect. */
    private SocketChannel ensureChannel()
    {
        SocketChannel ch = channel;
        if (ch == null)
        {
            ch = newChannel();
            try
            {
                ch.setOption(StandardSocketOptions.SO_REUSEADDR, reuseAddress);
                if (reusePort)
                {
                    ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                }
                if (keepAlive)
                {
                    ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                }
                if (noDelay)
                {
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
                if (receiveBuffer >= 0)
                {
                    ch.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer);
                }
                if (sendBuffer >= 0)
                {
                    ch.setOption(StandardSocketOptions.SO_SNDBUF, sendBuffer);
                }
            }
            catch (final IOException e)
            {
                closeQuietly(ch);
                throw NetErrors.of(e, "socket");
            }
            channel = ch;
        }
        return ch;
    }

    private SocketChannel newChannel()
    {
        try
        {
            final SocketChannel ch = SocketChannel.open(protocol);
            try
            {
                ch.configureBlocking(false);
            }
            catch (final IOException e)
            {
                closeQuietly(ch);
                throw e;
            }
            return ch;
        }
        catch (final IOException e)
        {
            throw NetErrors.of(e, "socket");
        }
        catch (final UnsupportedOperationException e)
        {
            throw new ErrnoException(Errno.EAFNOSUPPORT, "the host has no " + protocol + " sockets");
        }
    }

    /** @return the loopback address of the wildcard's own version (connecting to the wildcard means this host). */
    private static InetAddress loopback(final InetAddress wildcard)
    {
        try
        {
            return wildcard instanceof Inet4Address ? InetAddress.getByAddress(new byte[] {127, 0, 0, 1})
                : InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalStateException(e);
        }
    }

    private static void closeQuietly(final java.nio.channels.Channel ch)
    {
        if (ch != null)
        {
            try
            {
                ch.close();
            }
            catch (final IOException e)
            {
                // Closing frees what it can; there is nothing else to do with the socket.
            }
        }
    }

    @Override
    public String toString()
    {
        return "socket:[" + Integer.toHexString(System.identityHashCode(this)) + "]";
    }
}
