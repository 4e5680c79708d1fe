package dev.ufork.posix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs {@link FileChannel} operations where no signal can reach them.
 * <p>
 * A {@code FileChannel} is an {@code InterruptibleChannel}: interrupting a thread inside one of its operations, or
 * starting one with the thread's interrupt flag set, closes the channel. The kernel posts a signal by interrupting
 * the µprocess's thread, and the channel belongs to an open file description that other µprocesses share, so one
 * µprocess's signal would close the file under all of them. Every channel operation therefore runs on a fresh
 * virtual thread that nothing ever interrupts, while the µprocess waits for it without giving up: like a disk wait
 * in a kernel, the operation completes, and a signal that arrived meanwhile stays pending (the interrupt flag is
 * set again) until the µprocess's next libc call delivers it. A regular-file read or write is thus never cut short
 * by a signal, as on Linux.
 * <p>
 * The I/O thread cannot touch the µprocess's kernel buffer (its memory is confined to the µprocess's thread), so
 * transfers go through pooled direct buffers, one copy each way. The cost is that copy, a thread start and a
 * hand-off per operation: a few microseconds per 64 KiB.
 * <p>
 * Thread safety: safe for use from any thread.
 */
final class HostIo
{
    /** A channel operation. */
    @FunctionalInterface
    interface Call<T>
    {
        /** @return its result. @throws IOException as the channel reports. */
        T call() throws IOException;
    }

    /** Bytes of each pooled transfer buffer: the kernel buffer's size, so one call moves one chunk. */
    static final int BUFFER = Posix.KERNEL_BUFFER;
    /** Pooled buffers kept for reuse. */
    private static final int POOL_LIMIT = 16;
    private static final ConcurrentLinkedQueue<ByteBuffer> POOL = new ConcurrentLinkedQueue<>();
    private static final AtomicInteger POOLED = new AtomicInteger();

    private HostIo()
    {
    }

    /**
     * Runs {@code call} on an uninterrupted thread and waits for it, through interrupts.
     *
     * @return its result.
     * @throws IOException as the call threw it.
     */
    static <T> T run(final Call<T> call) throws IOException
    {
        final FutureTask<T> task = new FutureTask<>(call::call);
        Thread.ofVirtual().name("ufork-host-io").start(task);
        boolean interrupted = false;
        try
        {
            while (true)
            {
                try
                {
                    return task.get();
                }
                catch (final InterruptedException e)
                {
                    // A signal: keep waiting, the operation cannot be abandoned half-done.
                    interrupted = true;
                }
                catch (final ExecutionException e)
                {
                    throw rethrow(e.getCause());
                }
            }
        }
        finally
        {
            if (interrupted)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static IOException rethrow(final Throwable cause)
    {
        if (cause instanceof IOException io)
        {
            return io;
        }
        if (cause instanceof UncheckedIOException unchecked)
        {
            return unchecked.getCause();
        }
        if (cause instanceof RuntimeException runtime)
        {
            throw runtime;
        }
        if (cause instanceof Error error)
        {
            throw error;
        }
        throw new IllegalStateException("unexpected checked exception from a channel", cause);
    }

    /**
     * Reads at {@code position} until {@code dst} is full or the file ends. The channel fills a pooled direct buffer
     * on the I/O thread and the bytes are copied into {@code dst} on the calling thread, so {@code dst} may be
     * confined to the caller (the µprocess's kernel buffer is).
     *
     * @return bytes read (0 at or beyond the end).
     */
    static int read(final FileChannel channel, final ByteBuffer dst, final long position) throws IOException
    {
        final ByteBuffer buffer = acquire();
        try
        {
            int done = 0;
            while (dst.hasRemaining())
            {
                final int chunk = Math.min(buffer.capacity(), dst.remaining());
                buffer.clear().limit(chunk);
                final long at = position + done;
                final int n = run(() -> fill(channel, buffer, at));
                buffer.flip();
                dst.put(buffer);
                done += n;
                if (n < chunk)
                {
                    // The end of the file.
                    break;
                }
            }
            return done;
        }
        finally
        {
            release(buffer);
        }
    }

    private static int fill(final FileChannel channel, final ByteBuffer buffer, final long position)
        throws IOException
    {
        int done = 0;
        while (buffer.hasRemaining())
        {
            final int n = channel.read(buffer, position + done);
            if (n <= 0)
            {
                break;
            }
            done += n;
        }
        return done;
    }

    /**
     * Writes all of {@code src} at {@code position}, through a pooled direct buffer as {@link #read} does.
     *
     * @return bytes written.
     */
    static int write(final FileChannel channel, final ByteBuffer src, final long position) throws IOException
    {
        final ByteBuffer buffer = acquire();
        try
        {
            int done = 0;
            while (src.hasRemaining())
            {
                final int chunk = Math.min(buffer.capacity(), src.remaining());
                buffer.clear();
                buffer.put(src.slice(src.position(), chunk)).flip();
                src.position(src.position() + chunk);
                final long at = position + done;
                done += run(() -> drain(channel, buffer, at));
            }
            return done;
        }
        finally
        {
            release(buffer);
        }
    }

    private static int drain(final FileChannel channel, final ByteBuffer buffer, final long position)
        throws IOException
    {
        int done = 0;
        while (buffer.hasRemaining())
        {
            done += channel.write(buffer, position + done);
        }
        return done;
    }

    /** @return the channel's file size. */
    static long size(final FileChannel channel) throws IOException
    {
        return run(channel::size);
    }

    private static ByteBuffer acquire()
    {
        final ByteBuffer pooled = POOL.poll();
        if (pooled != null)
        {
            POOLED.decrementAndGet();
            return pooled;
        }
        return ByteBuffer.allocateDirect(BUFFER);
    }

    private static void release(final ByteBuffer buffer)
    {
        // Keep a few for reuse; the rest go to the garbage collector, which frees direct memory too.
        if (POOLED.incrementAndGet() <= POOL_LIMIT)
        {
            POOL.offer(buffer);
        }
        else
        {
            POOLED.decrementAndGet();
        }
    }
}
