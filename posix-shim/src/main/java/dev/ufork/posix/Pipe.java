package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.nio.ByteBuffer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A pipe: a {@value Fcntl#PIPE_CAPACITY}-byte ring buffer in kernel memory between a read end and a write end, each
 * an {@link OpenFile} that descriptors share across {@code dup} and {@code fork}.
 * <ul>
 *   <li>A read takes what is there (at most what was asked); with nothing there it blocks, returns 0 (end of file)
 *   once no write end is open, or fails with EAGAIN when non-blocking.</li>
 *   <li>A write of at most {@value Fcntl#PIPE_BUF} bytes is atomic: it waits until all of it fits. A larger write
 *   goes in as room appears and may interleave with other writers. With no read end open it fails with EPIPE, and
 *   the writer gets SIGPIPE.</li>
 *   <li>A signal that interrupts a blocked call ends it with EINTR if nothing was transferred yet, else with the
 *   count so far.</li>
 * </ul>
 * Thread safety: safe for any number of readers and writers; state is guarded by one lock, never held while
 * blocking.
 */
final class Pipe
{
    private final ReentrantLock lock = new ReentrantLock();
    private final byte[] ring = new byte[Fcntl.PIPE_CAPACITY];
    private int head;
    private int count;
    private int readers = 1;
    private int writers = 1;
    private final End readEnd;
    private final End writeEnd;

    Pipe(final int flags)
    {
        this.readEnd = new End(this, true, Fcntl.O_RDONLY | (flags & Fcntl.O_NONBLOCK));
        this.writeEnd = new End(this, false, Fcntl.O_WRONLY | (flags & Fcntl.O_NONBLOCK));
    }

    OpenFile readEnd()
    {
        return readEnd;
    }

    OpenFile writeEnd()
    {
        return writeEnd;
    }

    /** One end of the pipe, as an open file description. */
    static final class End extends OpenFile
    {
        private final Pipe pipe;
        private final boolean reading;

        End(final Pipe pipe, final boolean reading, final int flags)
        {
            super(flags);
            this.pipe = pipe;
            this.reading = reading;
        }

        @Override
        void closeLast()
        {
            pipe.closeEnd(reading);
        }

        @Override
        long read(final Posix caller, final ByteBuffer dst)
        {
            if (!reading)
            {
                throw new ErrnoException(Errno.EBADF, "the write end of a pipe cannot be read");
            }
            return pipe.read(caller, this, dst);
        }

        @Override
        long write(final Posix caller, final ByteBuffer src)
        {
            if (reading)
            {
                throw new ErrnoException(Errno.EBADF, "the read end of a pipe cannot be written");
            }
            return pipe.write(caller, this, src);
        }

        @Override
        int poll(final Posix caller, final int events)
        {
            return pipe.poll(reading, events);
        }

        @Override
        public String toString()
        {
            return "pipe:[" + Integer.toHexString(System.identityHashCode(pipe)) + "] " + (reading ? "read" : "write")
                + " end";
        }
    }

    private void closeEnd(final boolean reading)
    {
        lock.lock();
        try
        {
            if (reading)
            {
                readers--;
            }
            else
            {
                writers--;
            }
        }
        finally
        {
            lock.unlock();
        }
        // The other end's waiters learn of EOF or EPIPE.
        (reading ? writeEnd : readEnd).wakeAll();
    }

    private long read(final Posix caller, final End end, final ByteBuffer dst)
    {
        if (!dst.hasRemaining())
        {
            return 0;
        }
        final Waiter waiter = caller.waiter();
        try
        {
            while (true)
            {
                lock.lock();
                try
                {
                    if (count > 0)
                    {
                        final int n = Math.min(count, dst.remaining());
                        final int first = Math.min(n, ring.length - head);
                        dst.put(ring, head, first);
                        dst.put(ring, 0, n - first);
                        head = (head + n) % ring.length;
                        count -= n;
                        writeEnd.wakeAll();
                        return n;
                    }
                    if (writers == 0)
                    {
                        return 0;
                    }
                    if (end.nonBlocking())
                    {
                        throw new ErrnoException(Errno.EAGAIN, "pipe empty");
                    }
                    end.addWaiter(waiter, Fcntl.POLLIN);
                }
                finally
                {
                    lock.unlock();
                }
                caller.block(waiter, Long.MAX_VALUE);
            }
        }
        finally
        {
            end.removeWaiter(waiter);
        }
    }

    private long write(final Posix caller, final End end, final ByteBuffer src)
    {
        final int total = src.remaining();
        if (total == 0)
        {
            return 0;
        }
        final boolean atomic = total <= Fcntl.PIPE_BUF;
        final Waiter waiter = caller.waiter();
        int written = 0;
        try
        {
            while (true)
            {
                lock.lock();
                try
                {
                    if (readers == 0)
                    {
                        if (written > 0)
                        {
                            return written;
                        }
                        caller.brokenPipe();
                        throw new ErrnoException(Errno.EPIPE, "no read end is open");
                    }
                    final int room = ring.length - count;
                    if (room > 0 && (!atomic || room >= total))
                    {
                        final int n = Math.min(room, src.remaining());
                        final int tail = (head + count) % ring.length;
                        final int first = Math.min(n, ring.length - tail);
                        src.get(ring, tail, first);
                        src.get(ring, 0, n - first);
                        count += n;
                        written += n;
                        readEnd.wakeAll();
                        if (!src.hasRemaining())
                        {
                            return written;
                        }
                    }
                    if (end.nonBlocking())
                    {
                        if (written > 0)
                        {
                            return written;
                        }
                        throw new ErrnoException(Errno.EAGAIN, "pipe full");
                    }
                    end.addWaiter(waiter, Fcntl.POLLOUT);
                }
                finally
                {
                    lock.unlock();
                }
                try
                {
                    caller.block(waiter, Long.MAX_VALUE);
                }
                catch (final ErrnoException e)
                {
                    if (e.errno() == Errno.EINTR && written > 0)
                    {
                        return written;
                    }
                    throw e;
                }
            }
        }
        finally
        {
            end.removeWaiter(waiter);
        }
    }

    private int poll(final boolean reading, final int events)
    {
        lock.lock();
        try
        {
            int ready = 0;
            if (reading)
            {
                if (count > 0)
                {
                    ready |= Fcntl.POLLIN;
                }
                if (writers == 0)
                {
                    ready |= Fcntl.POLLHUP;
                }
            }
            else
            {
                if (readers == 0)
                {
                    ready |= Fcntl.POLLERR;
                }
                else if (ring.length - count >= Fcntl.PIPE_BUF)
                {
                    ready |= Fcntl.POLLOUT;
                }
            }
            return ready & (events | Fcntl.POLLERR | Fcntl.POLLHUP);
        }
        finally
        {
            lock.unlock();
        }
    }
}
