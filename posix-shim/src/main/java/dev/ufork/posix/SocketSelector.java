package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.function.Consumer;

/**
 * How one µprocess waits for sockets: the channels it waits on stay registered with its {@link Waiter}'s selector
 * from one wait to the next, each key with a {@link Registration} attached, so a wait costs no registration and no
 * allocation in steady state; interest sets change only when what is waited for changes.
 * <p>
 * A wait is a <em>round</em>: {@link #beginRound()}, {@link #arm} each registration with the operations wanted,
 * then {@link #select}, which first disarms (interest set 0) every registration armed in an earlier round and not
 * in this one, so a socket no longer waited on cannot make the selector return, then selects with the
 * level-triggered epoll underneath and records each ready key's operations in its registration for
 * {@link #ready}. Callers re-check their condition after every round: a round may end early (a wake-up, a signal).
 * <p>
 * A key is never left cancelled in the selector for long: when the last descriptor of a socket closes, the socket
 * {@linkplain #flush() flushes} the selector of the µprocess that closed it and wakes every other µprocess that
 * registered it, so that their selectors drop the key and the host socket really closes.
 * <p>
 * Thread safety: everything but {@link #wake()} on the owning µprocess's thread. Lifetime: that of the µprocess;
 * its selector closes with the {@link Waiter}.
 */
final class SocketSelector
{
    /** A deadline that has always passed: look, do not wait. */
    static final long NOW = Long.MIN_VALUE;

    private final Waiter waiter;
    private final Thread owner;
    private final Consumer<SelectionKey> onReady = this::onReady;
    private final Consumer<SelectionKey> ignore = key ->
    {
    };
    private long round;
    private Registration[] armed = new Registration[16];
    private int armedCount;

    /** The registration of one channel with this selector, and what the last select found for it. */
    static final class Registration
    {
        final TcpSocket socket;
        final SelectableChannel channel;
        SelectionKey key;
        int armedOps;
        long usedRound;
        long readyRound;
        int readyOps;
        boolean armed;

        Registration(final TcpSocket socket, final SelectableChannel channel)
        {
            this.socket = socket;
            this.channel = channel;
        }

        /** @return whether this registration is still the live one of {@code s}'s current channel. */
        boolean isCurrent(final TcpSocket s, final SelectableChannel current)
        {
            return socket == s && channel == current && key.isValid();
        }
    }

    SocketSelector(final Waiter waiter)
    {
        this.waiter = waiter;
        this.owner = Thread.currentThread();
    }

    /**
     * @param socket  the socket.
     * @param channel its current channel (non-blocking).
     * @return this µprocess's registration of the channel, registering it (with no interest yet) on first use.
     * @throws ErrnoException EBADF if the channel has been closed (the socket changed channels: callers re-check).
     */
    Registration register(final TcpSocket socket, final SelectableChannel channel)
    {
        final Selector selector = waiter.selector();
        SelectionKey key = channel.keyFor(selector);
        if (key != null)
        {
            if (key.isValid() && key.attachment() instanceof Registration r)
            {
                return r;
            }
            // A cancelled key stays until the selector's next operation, and until then the channel cannot
            // register again.
            flush();
        }
        final Registration r = new Registration(socket, channel);
        try
        {
            key = channel.register(selector, 0, r);
        }
        catch (final ClosedChannelException | CancelledKeyException e)
        {
            final ErrnoException closed = new ErrnoException(Errno.EBADF, socket + " changed channels");
            closed.initCause(e);
            throw closed;
        }
        r.key = key;
        socket.addSelector(this);
        return r;
    }

    /** Starts a round: readiness recorded by earlier rounds no longer counts. */
    void beginRound()
    {
        round++;
    }

    /**
     * Waits for {@code ops} on a registration in this round (added to what the round already wants of it).
     *
     * @param ops NIO {@link SelectionKey} operations valid for its channel.
     */
    void arm(final Registration r, final int ops)
    {
        final int wanted = r.usedRound == round ? r.armedOps | ops : ops;
        r.usedRound = round;
        if (!r.armed || r.armedOps != wanted)
        {
            try
            {
                if (r.key.interestOps() != wanted)
                {
                    r.key.interestOps(wanted);
                }
            }
            catch (final CancelledKeyException e)
            {
                // The socket closed under us; the caller's next look at it finds out.
            }
            r.armedOps = wanted;
        }
        if (!r.armed)
        {
            r.armed = true;
            if (armedCount == armed.length)
            {
                armed = java.util.Arrays.copyOf(armed, armedCount * 2);
            }
            armed[armedCount++] = r;
        }
    }

    /** @return the operations the round's select found ready on {@code r} (0 if it was not selected). */
    int ready(final Registration r)
    {
        return r.readyRound == round ? r.readyOps : 0;
    }

    /** @return whether any registration is armed for this round. */
    boolean anyArmed()
    {
        for (int i = 0; i < armedCount; i++)
        {
            if (armed[i].usedRound == round)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * Ends the round: disarms what earlier rounds armed and this one did not, then selects.
     *
     * @param deadline a {@link System#nanoTime()} value (one already past, or {@link #NOW}, for no wait), or
     *                 {@link Long#MAX_VALUE} for none.
     * @throws ErrnoException ENOMEM if the host selector fails.
     */
    void select(final long deadline)
    {
        disarmStale();
        final Selector selector = waiter.selector();
        try
        {
            if (deadline == Long.MAX_VALUE)
            {
                selector.select(onReady);
                return;
            }
            final long left = deadline == NOW ? 0 : deadline - System.nanoTime();
            if (left <= 0)
            {
                selector.selectNow(onReady);
            }
            else
            {
                // Rounded up: a select that returns a little early only costs one more round.
                selector.select(onReady, Math.max(1, (left + 999_999) / 1_000_000));
            }
        }
        catch (final IOException e)
        {
            final ErrnoException failed = new ErrnoException(Errno.ENOMEM, "select failed: " + e);
            failed.initCause(e);
            throw failed;
        }
    }

    private void disarmStale()
    {
        int kept = 0;
        for (int i = 0; i < armedCount; i++)
        {
            final Registration r = armed[i];
            if (r.usedRound == round)
            {
                armed[kept++] = r;
                continue;
            }
            r.armed = false;
            r.armedOps = 0;
            try
            {
                if (r.key.isValid() && r.key.interestOps() != 0)
                {
                    r.key.interestOps(0);
                }
            }
            catch (final CancelledKeyException e)
            {
                // Closed meanwhile: the selector drops it at its next operation.
            }
        }
        for (int i = kept; i < armedCount; i++)
        {
            armed[i] = null;
        }
        armedCount = kept;
    }

    private void onReady(final SelectionKey key)
    {
        if (key.attachment() instanceof Registration r)
        {
            r.readyOps = key.readyOps();
            r.readyRound = round;
        }
    }

    /**
     * Drops cancelled keys from the selector now (a host socket whose channel was closed while registered closes
     * only then). On the owning thread only; a pending wake-up may be consumed, which is harmless because every
     * wait re-checks its condition after arming.
     */
    void flush()
    {
        if (!waiter.hasSelector())
        {
            return;
        }
        try
        {
            waiter.selector().selectNow(ignore);
        }
        catch (final IOException e)
        {
            // The keys go when the selector closes at the latest.
        }
    }

    /** @return whether the calling thread is the owning µprocess's. */
    boolean ownedByCurrentThread()
    {
        return Thread.currentThread() == owner;
    }

    /** @return whether the owning µprocess has ended (its selector closed). */
    boolean closed()
    {
        return !waiter.hasSelector();
    }

    /** Wakes the owning µprocess's wait, from any thread. */
    void wake()
    {
        waiter.wake();
    }
}
