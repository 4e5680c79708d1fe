package dev.ufork.posix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Selector;
import java.util.concurrent.locks.LockSupport;

/**
 * How a µprocess blocked in a libc call is woken: an open file whose state changes (data arrives, room appears, the
 * other end closes) calls {@link #wake()} on the waiters it holds. A µprocess that waits on sockets also needs a
 * {@link Selector}, opened on first use; then a wake-up is a {@link Selector#wakeup()}, which ends a select as an
 * unpark ends a park. A signal interrupts the thread, which ends either.
 * <p>
 * Thread safety: {@link #wake()} from any thread; everything else from the owning µprocess's thread. Lifetime: that
 * of its µprocess; {@link #close()} releases the selector.
 */
final class Waiter implements AutoCloseable
{
    private final Thread thread;
    private volatile Selector selector;

    Waiter(final Thread thread)
    {
        this.thread = thread;
    }

    /** Wakes the µprocess if it is blocked (or makes its next block return at once). */
    void wake()
    {
        final Selector s = selector;
        if (s != null)
        {
            s.wakeup();
        }
        LockSupport.unpark(thread);
    }

    /** @return the µprocess's selector, opened on first use. */
    Selector selector()
    {
        Selector s = selector;
        if (s == null)
        {
            try
            {
                s = Selector.open();
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException("cannot open a selector", e);
            }
            selector = s;
        }
        return s;
    }

    /** @return whether a selector has been opened. */
    boolean hasSelector()
    {
        return selector != null;
    }

    /**
     * Blocks until woken, interrupted, or {@code deadline} passes. May return early; callers re-check their
     * condition.
     *
     * @param deadline a {@link System#nanoTime()} value, or {@link Long#MAX_VALUE} for none.
     */
    void await(final long deadline)
    {
        if (deadline == Long.MAX_VALUE)
        {
            LockSupport.park(this);
        }
        else
        {
            final long left = deadline - System.nanoTime();
            if (left > 0)
            {
                LockSupport.parkNanos(this, left);
            }
        }
    }

    @Override
    public void close()
    {
        final Selector s = selector;
        if (s != null)
        {
            selector = null;
            try
            {
                s.close();
            }
            catch (final IOException e)
            {
                // Closing a selector that failed leaks nothing we could still free.
            }
        }
    }
}
