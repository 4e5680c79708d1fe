package dev.ufork.perf.forkbench;

import java.util.Arrays;

/**
 * The summary of one set of measured fork latencies: how many, the median and the 99th percentile, in microseconds.
 * <p>
 * The median of an even count is the mean of the two middle values; the 99th percentile is the nearest rank
 * ({@code ceil(0.99 n)}-th smallest), so with fewer than 100 forks it is the largest value.
 *
 * @param count    measured forks (warm-up excluded).
 * @param medianUs median latency in µs.
 * @param p99Us    99th-percentile latency in µs.
 */
record Latencies(int count, double medianUs, double p99Us)
{
    /**
     * @param microseconds the measured latencies; not modified.
     * @return their summary.
     * @throws IllegalArgumentException if there are none.
     */
    static Latencies of(final double[] microseconds)
    {
        if (microseconds.length == 0)
        {
            throw new IllegalArgumentException("no latencies");
        }
        final double[] sorted = microseconds.clone();
        Arrays.sort(sorted);
        final int n = sorted.length;
        final double median = (n & 1) == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        final int rank = (int)Math.ceil(0.99 * n);
        return new Latencies(n, median, sorted[Math.max(1, rank) - 1]);
    }

    /**
     * @param values samples.
     * @return their median (the lower middle one for an even count), or −1 if there are none.
     */
    static long medianOf(final long[] values)
    {
        if (values.length == 0)
        {
            return -1;
        }
        final long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[(sorted.length - 1) / 2];
    }
}
