package dev.ufork.apps;

import java.util.Locale;

/**
 * Numbers for people: durations with a fitting unit, sizes in binary units, counts with thousands separators, and
 * ratios in words.
 * <p>
 * Thread safety: stateless. Lifetime: static.
 */
public final class Units
{
    private Units()
    {
    }

    /**
     * @param micros a duration in microseconds.
     * @return e.g. {@code "61 µs"}, {@code "1.25 ms"}, {@code "2.31 s"}.
     */
    public static String duration(final double micros)
    {
        if (micros < 10)
        {
            return String.format(Locale.ROOT, "%.1f µs", micros);
        }
        if (micros < 1_000)
        {
            return String.format(Locale.ROOT, "%.0f µs", micros);
        }
        if (micros < 1_000_000)
        {
            return String.format(Locale.ROOT, "%.2f ms", micros / 1e3);
        }
        return String.format(Locale.ROOT, "%.2f s", micros / 1e6);
    }

    /**
     * @param seconds a duration in seconds.
     * @return as {@link #duration(double)}.
     */
    public static String seconds(final double seconds)
    {
        return duration(seconds * 1e6);
    }

    /**
     * @param bytes a size.
     * @return e.g. {@code "27.1 MiB"}, {@code "64 KiB"}, {@code "512 B"}.
     */
    public static String bytes(final long bytes)
    {
        final String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = 0;
        while (Math.abs(value) >= 1024 && unit < units.length - 1)
        {
            value /= 1024;
            unit++;
        }
        if (unit == 0 || value == Math.rint(value))
        {
            return String.format(Locale.ROOT, "%.0f %s", value, units[unit]);
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    /**
     * @param count a count.
     * @return it with thousands separators, e.g. {@code "300,000"}.
     */
    public static String count(final long count)
    {
        return String.format(Locale.ROOT, "%,d", count);
    }

    /**
     * @param rate operations per second.
     * @return it rounded to a whole number with separators.
     */
    public static String rate(final double rate)
    {
        return String.format(Locale.ROOT, "%,.0f", rate);
    }

    /**
     * @param times a ratio.
     * @return e.g. {@code "23.4x"}, {@code "0.52x"}.
     */
    public static String times(final double times)
    {
        return String.format(Locale.ROOT, times >= 10 ? "%.1fx" : "%.2fx", times);
    }

    /**
     * @param ufork ufork's figure, where more is better (a rate, or the inverse of a latency).
     * @param linux Linux's figure, on the same scale.
     * @return e.g. {@code "ufork is 23.4x Linux"} or {@code "Linux is 2.10x ufork"}.
     */
    public static String comparison(final double ufork, final double linux)
    {
        return ufork >= linux ? "ufork is " + times(ufork / linux) + " Linux" : "Linux is " + times(linux / ufork)
            + " ufork";
    }

    /**
     * @param uforkMicros ufork's latency.
     * @param linuxMicros Linux's latency.
     * @return ufork against Linux, e.g. {@code "7.80x faster"} or {@code "34.1x slower"}.
     */
    public static String faster(final double uforkMicros, final double linuxMicros)
    {
        return uforkMicros <= linuxMicros ? times(linuxMicros / uforkMicros) + " faster"
            : times(uforkMicros / linuxMicros) + " slower";
    }
}
