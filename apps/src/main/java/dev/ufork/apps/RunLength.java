package dev.ufork.apps;

import java.util.concurrent.TimeUnit;

/**
 * How long a throughput measurement runs: a fixed number of operations, or as many as fit in some seconds; and how
 * long it warms up first (the JIT needs a fraction of a second of the exact loop before its code settles).
 * <p>
 * Thread safety: immutable.
 *
 * @param ops           operations to measure, or 0 to measure for {@code seconds}.
 * @param seconds       how long to measure when {@code ops} is 0.
 * @param warmupSeconds how long at least to run the loop, unmeasured, before (longer while the JIT is still
 *                      compiling, see {@link WarmUp}); 0 for no warm-up.
 */
public record RunLength(long ops, double seconds, double warmupSeconds)
{
    /** Checks the values. */
    public RunLength
    {
        if (ops < 0 || (ops == 0 && !(seconds > 0)) || !(warmupSeconds >= 0))
        {
            throw new IllegalArgumentException("bad run length: ops " + ops + ", seconds " + seconds + ", warm-up "
                + warmupSeconds);
        }
    }

    /**
     * One of {@code rounds} slices of this run length: its share of the operations or of the time; only the first
     * slice warms up (the JIT stays warm after it).
     *
     * @param round  the slice's index, from 0.
     * @param rounds how many slices; at most {@link #ops()} when that is set.
     * @return the slice.
     * @throws IllegalArgumentException if {@code round} is not in {@code [0, rounds)} or a slice would be empty.
     */
    public RunLength slice(final int round, final int rounds)
    {
        if (round < 0 || round >= rounds || (ops > 0 && rounds > ops))
        {
            throw new IllegalArgumentException("slice " + round + " of " + rounds + " of " + this);
        }
        final double warmup = round == 0 ? warmupSeconds : 0;
        if (ops > 0)
        {
            return new RunLength(ops / rounds + (round < ops % rounds ? 1 : 0), 0, warmup);
        }
        return new RunLength(0, seconds / rounds, warmup);
    }

    /** One operation of a measured loop. */
    @FunctionalInterface
    public interface Operation
    {
        /**
         * @param index the operation's index in its loop (warm-up and measurement count separately).
         */
        void run(long index);
    }

    /**
     * What a loop did.
     *
     * @param ops   operations measured.
     * @param nanos their wall time.
     */
    public record Result(long ops, long nanos)
    {
        /** @return the wall time in seconds. */
        public double seconds()
        {
            return nanos / 1e9;
        }
    }

    /**
     * Warms up (at least {@link #warmupSeconds()}, then until the JIT settles: see {@link WarmUp}), then measures
     * {@code operation}.
     *
     * @param operation one operation.
     * @return what the measured loop did.
     */
    public Result measure(final Operation operation)
    {
        final WarmUp warmUp = new WarmUp(warmupSeconds);
        for (long i = 0; !warmUp.done(); i++)
        {
            operation.run(i);
        }
        final long start = System.nanoTime();
        long done = 0;
        if (ops > 0)
        {
            for (; done < ops; done++)
            {
                operation.run(done);
            }
            return new Result(done, System.nanoTime() - start);
        }
        final long budget = (long)(seconds * TimeUnit.SECONDS.toNanos(1));
        long elapsed = 0;
        while (elapsed < budget)
        {
            operation.run(done++);
            elapsed = System.nanoTime() - start;
        }
        return new Result(done, elapsed);
    }
}
