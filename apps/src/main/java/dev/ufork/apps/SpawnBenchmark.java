package dev.ufork.apps;

import dev.ufork.kernel.CopyMode;
import dev.ufork.posix.Posix;
import dev.ufork.posix.PosixProgram;

/**
 * Unixbench Spawn: fork a child that exits at once, wait for it, repeat; forks per second. The ufork side is a
 * 64 KiB µprocess calling {@link Posix#fork(PosixProgram, CopyMode)} and {@link Posix#waitpid(int, int[], int)};
 * the Linux side is {@code native/spawn.c} doing {@code fork}, {@code _exit(0)}, {@code waitpid} in a small C
 * process.
 * <p>
 * Thread safety: stateless. Lifetime: static.
 */
public final class SpawnBenchmark
{
    /** The benchmark's name in CSV rows. */
    public static final String NAME = "spawn";
    /** The C program's resource. */
    public static final String SOURCE = "dev/ufork/apps/native/spawn.c";
    /** The area of the forking µprocess: the kernel's smallest, as Unixbench's process is a small one. */
    public static final long AREA = 64 << 10;
    /** Untimed forks the C program makes before measuring (it has no JIT to warm up, only caches). */
    static final int LINUX_WARMUP = 200;

    /** The child: exits with status 0 at once. Captures nothing, as a forked program must. */
    private static final PosixProgram EXIT_AT_ONCE = posix -> 0;

    private SpawnBenchmark()
    {
    }

    /**
     * Measures fork + exit + wait in ufork.
     *
     * @param session the booted ufork.
     * @param length  how long.
     * @param mode    the copy mode of the forks.
     * @return the measurement.
     * @throws InterruptedException if interrupted.
     */
    public static Measurement ufork(final UforkSession session, final RunLength length, final CopyMode mode)
        throws InterruptedException
    {
        return session.call(AREA, posix ->
        {
            final int[] status = new int[1];
            final RunLength.Result result = length.measure(i -> spawnOnce(posix, mode, status));
            return new Measurement(NAME, "ufork", result.ops(), result.seconds());
        });
    }

    /**
     * One fork of a child that exits at once, and its reaping.
     *
     * @param posix  the parent's libc.
     * @param mode   the copy mode.
     * @param status scratch for the wait status.
     * @return the child's pid.
     * @throws IllegalStateException if fork or waitpid fails or the child did not exit with status 0.
     */
    static int spawnOnce(final Posix posix, final CopyMode mode, final int[] status)
    {
        final int child = posix.fork(EXIT_AT_ONCE, mode);
        if (child < 0)
        {
            throw new IllegalStateException("fork failed: " + posix.lastError());
        }
        final int reaped = posix.waitpid(child, status, 0);
        if (reaped != child)
        {
            throw new IllegalStateException("waitpid(" + child + ") returned " + reaped + ": " + posix.lastError());
        }
        if (!Posix.WIFEXITED(status[0]) || Posix.WEXITSTATUS(status[0]) != 0)
        {
            throw new IllegalStateException("child " + child + " ended with " + UforkSession.describe(status[0]));
        }
        return child;
    }

    /**
     * Measures fork + exit + wait in Linux.
     *
     * @param spawn  the built {@code spawn.c}.
     * @param length how long (its warm-up is a fixed {@value #LINUX_WARMUP} forks).
     * @return the measurement.
     * @throws InterruptedException if interrupted.
     */
    public static Measurement linux(final NativeBaseline spawn, final RunLength length) throws InterruptedException
    {
        final NativeBaseline.Output output = spawn.run(Long.toString(LINUX_WARMUP), Long.toString(length.ops()),
            Double.toString(length.seconds()), "0");
        return new Measurement(NAME, "linux", (long)output.number("ops"), output.number("seconds"));
    }

    /**
     * The median latency of Linux {@code fork()} (from the call to its return in the parent) in a process that has
     * written {@code residentBytes} of private memory: what a fork of a process of that size costs in Linux.
     *
     * @param spawn         the built {@code spawn.c}.
     * @param residentBytes bytes the process writes before forking.
     * @param forks         forks to time.
     * @return the median latency in microseconds.
     * @throws InterruptedException if interrupted.
     */
    public static double linuxForkLatencyMicros(final NativeBaseline spawn, final long residentBytes, final int forks)
        throws InterruptedException
    {
        final NativeBaseline.Output output = spawn.run(Integer.toString(Math.max(1, forks / 10)),
            Integer.toString(forks), "0", Long.toString(residentBytes));
        return output.number("fork_us_median");
    }
}
