package dev.ufork.apps;

import java.util.ArrayList;
import java.util.List;

/**
 * Measures ufork and Linux in alternating slices (ufork, Linux, ufork, Linux, ...) and adds each system's slices
 * up, so that a change in the machine's load during the run (other tenants, builds) hits both systems rather than
 * whichever happened to run second.
 * <p>
 * Thread safety: stateless. Lifetime: static.
 */
public final class Interleaved
{
    /** One system's side of a comparison. */
    @FunctionalInterface
    public interface Side
    {
        /**
         * @param slice how long to measure this time.
         * @return what was measured.
         * @throws InterruptedException if interrupted.
         */
        Measurement measure(RunLength slice) throws InterruptedException;
    }

    private Interleaved()
    {
    }

    /**
     * @param length the whole run length per system.
     * @param rounds how many times to alternate (fewer if {@code length} has fewer operations).
     * @param ufork  the ufork side.
     * @param linux  the Linux side, or null to measure ufork only.
     * @return ufork's combined measurement, then Linux's if measured.
     * @throws InterruptedException if interrupted.
     */
    public static List<Measurement> measure(final RunLength length, final int rounds, final Side ufork,
        final Side linux) throws InterruptedException
    {
        final int n = length.ops() > 0 ? (int)Math.min(rounds, length.ops()) : rounds;
        final List<Measurement> uforkParts = new ArrayList<>();
        final List<Measurement> linuxParts = new ArrayList<>();
        for (int round = 0; round < n; round++)
        {
            final RunLength slice = length.slice(round, n);
            uforkParts.add(ufork.measure(slice));
            if (linux != null)
            {
                linuxParts.add(linux.measure(slice));
            }
        }
        final List<Measurement> result = new ArrayList<>();
        result.add(Measurement.combine(uforkParts));
        if (linux != null)
        {
            result.add(Measurement.combine(linuxParts));
        }
        return result;
    }
}
