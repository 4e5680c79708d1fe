package dev.ufork.posix;

import java.nio.channels.SelectableChannel;
import java.util.Arrays;

/**
 * {@code poll} for one µprocess, over any mix of descriptors. Sockets are waited on through the µprocess's
 * {@link SocketSelector}, where each keeps its registration from call to call (found again through a cache indexed
 * by descriptor); every other kind of file answers {@link OpenFile#poll} itself and, when the call must wait, gets
 * the µprocess's {@link Waiter}, whose wake-up also ends a select. A call with n descriptors costs O(n) and, in
 * steady state, allocates nothing: the per-entry arrays are kept and grown, never rebuilt.
 * <p>
 * A call runs in rounds: the first only looks (a select that does not wait); if nothing is ready and the call may
 * wait, the other files get the waiter, and each later round looks at them again before waiting for the rest, so a
 * change between the first look and the wait is never missed.
 * <p>
 * Thread safety: confined to its µprocess's thread. Lifetime: that of the µprocess.
 */
final class Poller
{
    private final Posix posix;
    private final SocketSelector sockets;
    private OpenFile[] files = new OpenFile[16];
    private SocketSelector.Registration[] registrations = new SocketSelector.Registration[16];
    private SocketSelector.Registration[] byDescriptor = new SocketSelector.Registration[16];
    private int[] scratchFds = new int[16];
    private short[] scratchEvents = new short[16];
    private short[] scratchRevents = new short[16];
    private short[] scratchPrevious = new short[16];

    Poller(final Posix posix, final SocketSelector sockets)
    {
        this.posix = posix;
        this.sockets = sockets;
    }

    /** @return per-entry descriptors for a caller that reads a pollfd array in, at least {@code n} long. */
    int[] scratchFds(final int n)
    {
        if (scratchFds.length < n)
        {
            scratchFds = new int[grown(scratchFds.length, n)];
            scratchEvents = new short[scratchFds.length];
            scratchRevents = new short[scratchFds.length];
            scratchPrevious = new short[scratchFds.length];
        }
        return scratchFds;
    }

    /** @return a fourth array that goes with {@link #scratchFds}, for revents as they were before the call. */
    short[] scratchPrevious(final int n)
    {
        scratchFds(n);
        return scratchPrevious;
    }

    /** @return the events array that goes with {@link #scratchFds}. */
    short[] scratchEvents()
    {
        return scratchEvents;
    }

    /** @return the revents array that goes with {@link #scratchFds}. */
    short[] scratchRevents()
    {
        return scratchRevents;
    }

    /**
     * Polls. The caller has checked {@code nfds} and the arrays.
     *
     * @param fds     descriptors; negative ones are skipped (revents 0).
     * @param events  the events wanted of each.
     * @param revents receives the events ready (POLLNVAL for a descriptor that is not open).
     * @param nfds    entries.
     * @param timeout milliseconds; negative for no limit, 0 for none at all.
     * @return entries with non-zero revents.
     * @throws dev.ufork.kernel.ErrnoException EINTR if a signal ran a handler.
     */
    int poll(final int[] fds, final short[] events, final short[] revents, final int nfds, final int timeout)
    {
        ensure(nfds);
        final FileDescriptorTable table = posix.descriptors();
        for (int i = 0; i < nfds; i++)
        {
            final int fd = fds[i];
            files[i] = fd >= 0 && table.isOpen(fd) ? table.get(fd) : null;
        }
        final long deadline = timeout < 0 ? Long.MAX_VALUE
            : timeout == 0 ? SocketSelector.NOW : System.nanoTime() + timeout * 1_000_000L;
        final Waiter waiter = posix.waiter();
        boolean waiting = false;
        try
        {
            while (true)
            {
                long wait = waiting ? deadline : SocketSelector.NOW;
                sockets.beginRound();
                boolean armed = false;
                for (int i = 0; i < nfds; i++)
                {
                    registrations[i] = null;
                    final OpenFile file = files[i];
                    if (file instanceof TcpSocket socket)
                    {
                        final SelectableChannel channel = socket.selectable();
                        final int ops = channel == null ? 0 : socket.interestFor(events[i]);
                        if (ops != 0)
                        {
                            final SocketSelector.Registration r = registration(fds[i], socket, channel);
                            if (r != null)
                            {
                                sockets.arm(r, ops);
                                registrations[i] = r;
                                armed = true;
                            }
                            else
                            {
                                // The socket changed channels under us: look again at once.
                                wait = SocketSelector.NOW;
                            }
                        }
                    }
                    else if (file != null && wait != SocketSelector.NOW && file.poll(posix, events[i]) != 0)
                    {
                        // Ready since the last look: no waiting this round.
                        wait = SocketSelector.NOW;
                    }
                }
                if (armed)
                {
                    sockets.select(wait);
                }
                else if (wait != SocketSelector.NOW)
                {
                    waiter.await(wait);
                }
                posix.interruptionPoint();
                int count = 0;
                for (int i = 0; i < nfds; i++)
                {
                    final OpenFile file = files[i];
                    final int ready;
                    if (fds[i] < 0)
                    {
                        ready = 0;
                    }
                    else if (file == null)
                    {
                        ready = Fcntl.POLLNVAL;
                    }
                    else if (file instanceof TcpSocket socket)
                    {
                        final SocketSelector.Registration r = registrations[i];
                        ready = socket.revents(events[i], r == null ? 0 : sockets.ready(r));
                    }
                    else
                    {
                        ready = file.poll(posix, events[i]);
                    }
                    revents[i] = (short)ready;
                    if (ready != 0)
                    {
                        count++;
                    }
                }
                if (count > 0 || timeout == 0 || (deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0))
                {
                    return count;
                }
                if (!waiting)
                {
                    waiting = true;
                    for (int i = 0; i < nfds; i++)
                    {
                        final OpenFile file = files[i];
                        if (file != null && !(file instanceof TcpSocket))
                        {
                            file.addWaiter(waiter, events[i]);
                        }
                    }
                }
            }
        }
        finally
        {
            if (waiting)
            {
                for (int i = 0; i < nfds; i++)
                {
                    final OpenFile file = files[i];
                    if (file != null && !(file instanceof TcpSocket))
                    {
                        file.removeWaiter(waiter);
                    }
                }
            }
            // The files stay open without us: do not keep them reachable from here.
            Arrays.fill(files, 0, nfds, null);
            Arrays.fill(registrations, 0, nfds, null);
        }
    }

    /** @return the µprocess's registration of a socket's channel, cached by descriptor; null if it changed. */
    private SocketSelector.Registration registration(final int fd, final TcpSocket socket,
        final SelectableChannel channel)
    {
        if (fd < byDescriptor.length)
        {
            final SocketSelector.Registration cached = byDescriptor[fd];
            if (cached != null && cached.isCurrent(socket, channel))
            {
                return cached;
            }
        }
        final SocketSelector.Registration r;
        try
        {
            r = sockets.register(socket, channel);
        }
        catch (final dev.ufork.kernel.ErrnoException e)
        {
            return null;
        }
        if (fd >= byDescriptor.length)
        {
            byDescriptor = Arrays.copyOf(byDescriptor, grown(byDescriptor.length, fd + 1));
        }
        byDescriptor[fd] = r;
        return r;
    }

    private void ensure(final int n)
    {
        if (files.length < n)
        {
            files = new OpenFile[grown(files.length, n)];
            registrations = new SocketSelector.Registration[files.length];
        }
    }

    private static int grown(final int length, final int needed)
    {
        return Math.max(needed, length * 2);
    }
}
