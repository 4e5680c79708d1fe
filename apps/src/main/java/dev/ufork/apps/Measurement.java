package dev.ufork.apps;

import java.util.List;
import java.util.Locale;

/**
 * One throughput measurement: how many operations one system did in how long.
 * <p>
 * Thread safety: immutable.
 *
 * @param benchmark the benchmark, e.g. {@code "spawn"}.
 * @param system    {@code "ufork"} or {@code "linux"}.
 * @param ops       operations measured (warm-up excluded).
 * @param seconds   their wall time.
 */
public record Measurement(String benchmark, String system, long ops, double seconds)
{
    /** The header of {@link #csvRow()}. */
    public static final String CSV_HEADER = "benchmark,system,ops,ops_per_sec";

    /** Checks the values. */
    public Measurement
    {
        if (ops <= 0 || !(seconds > 0))
        {
            throw new IllegalArgumentException("a measurement needs ops > 0 and seconds > 0: " + ops + ", " + seconds);
        }
    }

    /**
     * @param parts measurements of the same benchmark and system, e.g. the slices of interleaved rounds.
     * @return one measurement with their operations and their time added up.
     * @throws IllegalArgumentException if {@code parts} is empty or mixes benchmarks or systems.
     */
    public static Measurement combine(final List<Measurement> parts)
    {
        if (parts.isEmpty())
        {
            throw new IllegalArgumentException("nothing to combine");
        }
        final Measurement first = parts.getFirst();
        long ops = 0;
        double seconds = 0;
        for (final Measurement part : parts)
        {
            if (!part.benchmark().equals(first.benchmark()) || !part.system().equals(first.system()))
            {
                throw new IllegalArgumentException("cannot combine " + first + " with " + part);
            }
            ops += part.ops();
            seconds += part.seconds();
        }
        return new Measurement(first.benchmark(), first.system(), ops, seconds);
    }

    /** @return operations per second. */
    public double opsPerSecond()
    {
        return ops / seconds;
    }

    /** @return the row under {@link #CSV_HEADER}, e.g. {@code spawn,ufork,150000,74985.2}. */
    public String csvRow()
    {
        return String.format(Locale.ROOT, "%s,%s,%d,%.1f", benchmark, system, ops, opsPerSecond());
    }
}
