package dev.ufork.posix;

import dev.ufork.kernel.Errno;
import dev.ufork.kernel.ErrnoException;

import java.nio.ByteBuffer;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An open file description: what a descriptor refers to, shared by every descriptor that {@code dup} or
 * {@code fork} made from the same {@code open}, with its status flags and (for regular files) its offset. It lives
 * as long as some descriptor refers to it; the last {@link #release()} closes it.
 * <p>
 * Subclasses implement the operations that make sense for their kind; the rest fail as POSIX says for such a file
 * (ESPIPE for seeks on pipes and sockets, EINVAL for fsync on a pipe, ENOTSOCK for socket calls on a file).
 * Transfers go through a kernel-side {@link ByteBuffer}: the caller has already copied a write's bytes in from the
 * µprocess, and copies a read's bytes out after.
 * <p>
 * Blocking: an operation that must wait registers the caller's {@link Waiter} with {@link #addWaiter}, re-checks,
 * and blocks through {@link Posix#block(Waiter, long)}, which turns a signal into EINTR. Implementations call
 * {@link #wakeAll()} when their readiness changes.
 * <p>
 * Thread safety: implementations are safe for concurrent use by every µprocess that holds a descriptor to them.
 */
abstract class OpenFile
{
    /** The status flags {@code F_SETFL} may change. */
    static final int SETTABLE_FLAGS = Fcntl.O_APPEND | Fcntl.O_NONBLOCK;

    private final AtomicInteger references = new AtomicInteger(1);
    private final CopyOnWriteArrayList<Waiter> waiters = new CopyOnWriteArrayList<>();
    private volatile int statusFlags;

    /** @param statusFlags the access mode and status flags it was opened with. */
    OpenFile(final int statusFlags)
    {
        this.statusFlags = statusFlags & (Fcntl.O_ACCMODE | SETTABLE_FLAGS);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Life cycle

    /** One more descriptor refers to this description. */
    final void retain()
    {
        if (references.getAndIncrement() <= 0)
        {
            throw new IllegalStateException("retain of a closed open file: " + this);
        }
    }

    /** One descriptor fewer; the last one closes the description. */
    final void release()
    {
        final int left = references.decrementAndGet();
        if (left == 0)
        {
            closeLast();
            wakeAll();
        }
        else if (left < 0)
        {
            throw new IllegalStateException("release of a closed open file: " + this);
        }
    }

    /** @return how many descriptors refer to this description. */
    final int references()
    {
        return references.get();
    }

    /** Called once, when the last descriptor is closed: release what the description holds. */
    abstract void closeLast();

    // ------------------------------------------------------------------------------------------------------------
    // Flags

    /** @return the access mode and status flags, as F_GETFL reports them. */
    final int statusFlags()
    {
        return statusFlags;
    }

    /** F_SETFL: changes O_APPEND and O_NONBLOCK; the access mode and other bits are ignored, as on Linux. */
    void setStatusFlags(final int flags)
    {
        statusFlags = (statusFlags & ~SETTABLE_FLAGS) | (flags & SETTABLE_FLAGS);
        wakeAll();
    }

    final boolean readable()
    {
        return (statusFlags & Fcntl.O_ACCMODE) != Fcntl.O_WRONLY;
    }

    final boolean writable()
    {
        return (statusFlags & Fcntl.O_ACCMODE) != Fcntl.O_RDONLY;
    }

    final boolean nonBlocking()
    {
        return (statusFlags & Fcntl.O_NONBLOCK) != 0;
    }

    final boolean appending()
    {
        return (statusFlags & Fcntl.O_APPEND) != 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Transfers

    /**
     * Reads up to {@code dst.remaining()} bytes into {@code dst}.
     *
     * @return bytes read; 0 at end of file.
     * @throws ErrnoException EAGAIN if it would block and the file is non-blocking; EINTR if a signal interrupted
     *                        the wait; EBADF if not open for reading; others by kind.
     */
    long read(final Posix caller, final ByteBuffer dst)
    {
        throw new ErrnoException(Errno.EINVAL, this + " cannot be read");
    }

    /**
     * Writes up to {@code src.remaining()} bytes from {@code src}.
     *
     * @return bytes written (a short count only if interrupted or non-blocking after some progress).
     * @throws ErrnoException EAGAIN, EINTR, EPIPE, EBADF and others by kind.
     */
    long write(final Posix caller, final ByteBuffer src)
    {
        throw new ErrnoException(Errno.EINVAL, this + " cannot be written");
    }

    /** pread: at {@code offset}, not moving the file offset. */
    long pread(final Posix caller, final ByteBuffer dst, final long offset)
    {
        throw new ErrnoException(Errno.ESPIPE, this + " cannot be read at an offset");
    }

    /** pwrite: at {@code offset}, not moving the file offset. */
    long pwrite(final Posix caller, final ByteBuffer src, final long offset)
    {
        throw new ErrnoException(Errno.ESPIPE, this + " cannot be written at an offset");
    }

    /** lseek. @return the new offset. */
    long lseek(final long offset, final int whence)
    {
        throw new ErrnoException(Errno.ESPIPE, this + " cannot seek");
    }

    /** fsync. */
    void fsync()
    {
        throw new ErrnoException(Errno.EINVAL, this + " cannot be synced");
    }

    /** ftruncate. */
    void truncate(final long length)
    {
        throw new ErrnoException(Errno.EINVAL, this + " cannot be truncated");
    }

    /** @return whether a read that filled its buffer should be followed by another (regular files: read fills). */
    boolean readsFully()
    {
        return false;
    }

    /**
     * Called by libc before the first chunk of one read or write call that goes through its kernel buffer in
     * chunks, and {@link #endTransfer} after the last, so that a file whose calls must be atomic (a regular file)
     * can hold its locks across all of them. Default: nothing.
     *
     * @param writing whether the call writes.
     */
    void beginTransfer(final boolean writing)
    {
    }

    /** Ends what {@link #beginTransfer} began. @param writing as it was given there. */
    void endTransfer(final boolean writing)
    {
    }

    // ------------------------------------------------------------------------------------------------------------
    // Readiness

    /**
     * @param events the poll events asked for.
     * @return the events ready now, among those asked for plus POLLERR and POLLHUP.
     */
    abstract int poll(Posix caller, int events);

    /**
     * Registers a waiter to be woken when readiness changes. Sockets also register with the waiter's selector.
     *
     * @param events the poll events the waiter waits for.
     */
    void addWaiter(final Waiter waiter, final int events)
    {
        waiters.addIfAbsent(waiter);
    }

    /** Undoes {@link #addWaiter}. */
    void removeWaiter(final Waiter waiter)
    {
        waiters.remove(waiter);
    }

    /** Wakes every registered waiter: readiness may have changed. */
    final void wakeAll()
    {
        for (final Waiter waiter : waiters)
        {
            waiter.wake();
        }
    }
}
