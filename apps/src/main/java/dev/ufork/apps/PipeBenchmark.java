package dev.ufork.apps;

import dev.ufork.capability.Capability;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixProgram;

/**
 * Unixbench Context1: a parent and its child bounce a 4-byte counter over two pipes with blocking reads and writes;
 * round trips per second. The ufork side runs as µprocesses through {@link Posix#read(int, Capability, long)} and
 * {@link Posix#write(int, Capability, long)} on buffers in their own memory, as a C program would; the Linux side
 * is {@code native/pipe.c}.
 * <p>
 * Thread safety: stateless. Lifetime: static.
 */
public final class PipeBenchmark
{
    /** The benchmark's name in CSV rows. */
    public static final String NAME = "pipe";
    /** The C program's resource. */
    public static final String SOURCE = "dev/ufork/apps/native/pipe.c";
    /** The area of each µprocess. */
    public static final long AREA = 64 << 10;
    /** Untimed round trips the C program makes before measuring. */
    static final int LINUX_WARMUP = 2000;
    /** Bytes of one message: a 32-bit counter, as Context1 sends. */
    static final int MESSAGE = Integer.BYTES;

    private PipeBenchmark()
    {
    }

    /**
     * Measures pipe round trips in ufork.
     *
     * @param session the booted ufork.
     * @param length  how long.
     * @return the measurement.
     * @throws InterruptedException if interrupted.
     */
    public static Measurement ufork(final UforkSession session, final RunLength length) throws InterruptedException
    {
        return session.call(AREA, posix ->
        {
            final int[] down = new int[2];
            final int[] up = new int[2];
            check(posix, posix.pipe(down), "pipe");
            check(posix, posix.pipe(up), "pipe");
            final int child = check(posix, posix.fork(echo(down[0], down[1], up[0], up[1])), "fork");
            check(posix, posix.close(down[0]), "close");
            check(posix, posix.close(up[1]), "close");
            final Capability buffer = posix.scratch().setBoundsExact(MESSAGE);
            final RunLength.Result result = length.measure(i -> roundTrip(posix, down[1], up[0], buffer, (int)i));
            // End of file on its pipe tells the child to exit.
            check(posix, posix.close(down[1]), "close");
            final int[] status = new int[1];
            check(posix, posix.waitpid(child, status, 0), "waitpid");
            check(posix, posix.close(up[0]), "close");
            if (!Posix.WIFEXITED(status[0]) || Posix.WEXITSTATUS(status[0]) != 0)
            {
                throw new IllegalStateException("the echo child ended with " + UforkSession.describe(status[0]));
            }
            return new Measurement(NAME, "ufork", result.ops(), result.seconds());
        });
    }

    /**
     * The child: reads each counter from {@code in} and writes it back to {@code out} until end of file. Captures
     * only descriptor numbers, which the fork copies with the descriptor table.
     */
    private static PosixProgram echo(final int in, final int inWriteEnd, final int outReadEnd, final int out)
    {
        return posix ->
        {
            check(posix, posix.close(inWriteEnd), "close");
            check(posix, posix.close(outReadEnd), "close");
            final Capability buffer = posix.scratch().setBoundsExact(MESSAGE);
            while (readFully(posix, in, buffer))
            {
                if (check(posix, posix.write(out, buffer, MESSAGE), "write") != MESSAGE)
                {
                    throw new IllegalStateException("short write to a pipe");
                }
            }
            return 0;
        };
    }

    private static void roundTrip(final Posix posix, final int out, final int in, final Capability buffer,
        final int counter)
    {
        posix.memory().storeInt(buffer, 0, counter);
        if (check(posix, posix.write(out, buffer, MESSAGE), "write") != MESSAGE)
        {
            throw new IllegalStateException("short write to a pipe");
        }
        if (!readFully(posix, in, buffer))
        {
            throw new IllegalStateException("the echo child closed its pipe");
        }
        final int back = posix.memory().loadInt(buffer, 0);
        if (back != counter)
        {
            throw new IllegalStateException("sent " + counter + ", got back " + back);
        }
    }

    /** @return whether a whole message arrived (false at end of file before any byte). */
    private static boolean readFully(final Posix posix, final int fd, final Capability buffer)
    {
        long got = 0;
        while (got < MESSAGE)
        {
            final long n = check(posix, posix.read(fd, buffer.add(got), MESSAGE - got), "read");
            if (n == 0)
            {
                if (got == 0)
                {
                    return false;
                }
                throw new IllegalStateException("end of file in the middle of a message");
            }
            got += n;
        }
        return true;
    }

    private static long check(final Posix posix, final long result, final String call)
    {
        if (result < 0)
        {
            throw new IllegalStateException(call + " failed: " + posix.lastError());
        }
        return result;
    }

    private static int check(final Posix posix, final int result, final String call)
    {
        if (result < 0)
        {
            throw new IllegalStateException(call + " failed: " + posix.lastError());
        }
        return result;
    }

    /**
     * Measures pipe round trips in Linux.
     *
     * @param pipe   the built {@code pipe.c}.
     * @param length how long (its warm-up is a fixed {@value #LINUX_WARMUP} round trips).
     * @return the measurement.
     * @throws InterruptedException if interrupted.
     */
    public static Measurement linux(final NativeBaseline pipe, final RunLength length) throws InterruptedException
    {
        final NativeBaseline.Output output = pipe.run(Long.toString(LINUX_WARMUP), Long.toString(length.ops()),
            Double.toString(length.seconds()));
        return new Measurement(NAME, "linux", (long)output.number("ops"), output.number("seconds"));
    }
}
